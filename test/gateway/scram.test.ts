import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramClient, md5Password } from '../../src/gateway/index.js';

describe('SCRAM-SHA-256 client', () => {
  it('produces the RFC 7677 test vector and verifies the server signature', () => {
    const client = new ScramClient('pencil', null, false, {
      nonce: 'rOprNGfwEbeRWgbNEkqO',
      user: 'user',
    });
    expect(client.clientFirst().toString()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst =
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    expect(client.clientFinal(Buffer.from(serverFirst)).toString()).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
        'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() =>
      client.verifyServerFinal(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')),
    ).not.toThrow();
    expect(() => client.verifyServerFinal(Buffer.from('v=AAAA'))).toThrow(/does not verify/);
  });

  it('rejects a server nonce that does not extend the client nonce', () => {
    const client = new ScramClient('pencil', null);
    expect(() =>
      client.clientFinal(Buffer.from('r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')),
    ).toThrow(/nonce/);
  });

  it('binds to the channel with tls-server-end-point for SCRAM-SHA-256-PLUS', () => {
    const client = new ScramClient('pw', Buffer.alloc(32, 1), true);
    expect(client.mechanism).toBe('SCRAM-SHA-256-PLUS');
    const first = client.clientFirst().toString();
    expect(first.startsWith('p=tls-server-end-point,,n=*,r=')).toBe(true);
    const nonce = first.split('r=')[1]!;
    const final = client
      .clientFinal(Buffer.from(`r=${nonce}xyz,s=${Buffer.from('salt').toString('base64')},i=4096`))
      .toString();
    const cbind = Buffer.from(final.split(',')[0]!.slice(2), 'base64');
    expect(cbind).toEqual(
      Buffer.concat([Buffer.from('p=tls-server-end-point,,'), Buffer.alloc(32, 1)]),
    );
  });
});

describe('md5 password', () => {
  it('matches PostgreSQL: md5(hex(md5(password || user)) || salt)', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const inner = createHash('md5').update('secretalice').digest('hex');
    const outer = createHash('md5')
      .update(Buffer.concat([Buffer.from(inner), salt]))
      .digest('hex');
    expect(md5Password('alice', 'secret', salt)).toBe(`md5${outer}`);
  });
});
