// The backstop on NotificationResponse, for the gateway to apply to NOTIFY payloads.
import { describe, expect, it } from 'vitest';
import { maskNotificationResponse } from '../../src/masking/index.js';

function notification(pid: number, channel: string, payload: string): Buffer {
  const body = Buffer.from(`${channel}\0${payload}\0`, 'utf8');
  const out = Buffer.alloc(9 + body.length);
  out.write('A', 0);
  out.writeInt32BE(8 + body.length, 1);
  out.writeInt32BE(pid, 5);
  body.copy(out, 9);
  return out;
}

describe('maskNotificationResponse', () => {
  it('masks card numbers in the payload and keeps the framing valid', () => {
    const out = maskNotificationResponse(notification(77, 'ch', 'card 4111111111111111 ß'));
    expect(out.readInt32BE(1)).toBe(out.length - 1);
    expect(out.readInt32BE(5)).toBe(77);
    expect(out.toString('utf8', 9)).toBe('ch\0card [card-number] ß\0');
  });

  it('returns the same buffer when there is nothing to mask, or the message is not one', () => {
    const plain = notification(1, 'ch', 'order 12345');
    expect(maskNotificationResponse(plain)).toBe(plain);
    const other = Buffer.from('Z\0\0\0\x05I');
    expect(maskNotificationResponse(other)).toBe(other);
  });
});
