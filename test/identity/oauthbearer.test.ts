// SASL OAUTHBEARER payloads (RFC 7628) as libpq 18 sends them.
import { describe, expect, it } from 'vitest';
import {
  isOAuthBearerAbort,
  oauthBearerChallenge,
  parseOAuthBearer,
} from '../../src/identity/index.js';

describe('OAUTHBEARER', () => {
  it('reads the bearer token from an initial response', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    expect(parseOAuthBearer(Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`))).toEqual({
      token,
      pairs: {},
    });
    expect(
      parseOAuthBearer(
        `y,a=etl=2Cbot,\x01host=db.example\x01port=5432\x01auth=bearer ${token}\x01\x01`,
      ),
    ).toEqual({ token, authzid: 'etl,bot', pairs: { host: 'db.example', port: '5432' } });
  });

  it('treats an empty or missing auth value as a discovery request', () => {
    expect(parseOAuthBearer('n,,\x01auth=\x01\x01').token).toBeUndefined();
    expect(parseOAuthBearer('n,,\x01\x01').token).toBeUndefined();
  });

  it.each([
    ['channel binding', 'p=tls-server-end-point,,\x01auth=Bearer abc\x01\x01'],
    ['no separator', 'n,,auth=Bearer abc'],
    ['a missing final separator', 'n,,\x01auth=Bearer abc\x01'],
    ['another scheme', 'n,,\x01auth=Basic YWJj\x01\x01'],
    ['a token with spaces', 'n,,\x01auth=Bearer a b\x01\x01'],
    ['a repeated key', 'n,,\x01auth=Bearer a\x01auth=Bearer b\x01\x01'],
  ])('refuses %s with ERR_PROTOCOL', (_name, message) => {
    expect(() => parseOAuthBearer(message)).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
  });

  it('writes the challenge libpq uses to find the issuer', () => {
    const challenge = JSON.parse(
      oauthBearerChallenge({
        issuer: 'https://idp.example/realms/ops/',
        scope: 'openid pg',
      }).toString(),
    );
    expect(challenge).toEqual({
      status: 'invalid_token',
      'openid-configuration': 'https://idp.example/realms/ops/.well-known/openid-configuration',
      scope: 'openid pg',
    });
    expect(isOAuthBearerAbort(Buffer.from([1]))).toBe(true);
    expect(isOAuthBearerAbort('n,,\x01\x01')).toBe(false);
  });
});
