// Edge cases found by the client suite, pinned here without the Debian tools.
import { describe, expect, it } from 'vitest';
import { isTrusted } from '../../src/gateway/handshake.js';
import { MessageFramer } from '../../src/wire/index.js';

describe('trusted proxies', () => {
  it('match CIDR ranges as well as single addresses (regression: ranges never matched)', () => {
    const trusted = ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'];
    expect(isTrusted(trusted, '10.1.2.3')).toBe(true);
    expect(isTrusted(trusted, '192.168.1.7')).toBe(true);
    expect(isTrusted(trusted, '192.168.1.8')).toBe(false);
    expect(isTrusted(trusted, 'fd12::1')).toBe(true);
    expect(isTrusted(trusted, '127.0.0.1')).toBe(false);
    expect(isTrusted(['not an address'], '127.0.0.1')).toBe(false);
  });
});

describe('startup framing', () => {
  it.each([5, 6, 7])(
    'refuses a startup length of %i at once (regression: it waited for the body)',
    (length) => {
      const framer = new MessageFramer(undefined, false);
      const packet = Buffer.alloc(4);
      packet.writeInt32BE(length);
      expect(() => framer.push(packet, [])).toThrow(/invalid startup packet length/);
    },
  );
});
