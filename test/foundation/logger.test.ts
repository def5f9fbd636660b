import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, sessionLogger } from '../../src/logger.js';

/** A logger writing into an array of parsed JSON lines. */
function capture(): {
  lines: Array<Record<string, unknown>>;
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', stream }) };
}

describe('logger', () => {
  it('writes JSON lines with level, ISO time and the session id on every line', () => {
    const { lines, logger } = capture();
    const session = sessionLogger(logger, 'c-42', { client_addr: '10.0.0.7' });
    session.info('session started');
    session.child({ statement: 's-1' }).warn({ ms: 3 }, 'slow decision');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.session).toBe('c-42');
      expect(line.client_addr).toBe('10.0.0.7');
      expect(typeof line.time).toBe('string');
      expect(new Date(line.time as string).toString()).not.toBe('Invalid Date');
    }
    expect(lines[0]).toMatchObject({ level: 30, msg: 'session started' });
    expect(lines[1]).toMatchObject({ level: 40, statement: 's-1', ms: 3 });
  });

  it('redacts secrets and result values wherever they sit, up to three levels deep', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'pw-1',
        upstream: { password: 'pw-2', user: 'gw' },
        req: { headers: { authorization: 'Bearer eyJhbGciOi.x.y' } },
        result: { rows: [['4111111111111111']], values: ['4111111111111111'] },
        identity: { token: 'eyJraWQ.a.b', subject: 'repo:acme/x' },
        hmac_key: 'k',
      },
      'login',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['pw-1', 'pw-2', 'eyJ', '4111111111111111', '"k"']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      upstream: { user: 'gw', password: '[redacted]' },
      identity: { subject: 'repo:acme/x', token: '[redacted]' },
    });
  });

  it('drops lines below the configured level', () => {
    const { lines, logger } = capture();
    logger.level = 'warn';
    logger.info('quiet');
    logger.error('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});
