/**
 * The backstop for backend messages that are not rows. NotificationResponse carries a payload
 * any statement can fill (`SELECT pg_notify('ch', pan) FROM cards`), so it gets the same
 * card-number scan as row values before it goes to the client.
 */
import { maskCardNumbers } from './detect.js';

/**
 * Returns a NotificationResponse message ('A', int32 length, int32 process id, channel and
 * payload as NUL-terminated strings) with card numbers in its channel and payload masked, or the
 * same buffer when there are none. A message that does not have that shape is returned as is:
 * framing errors are the wire layer's to report.
 */
export function maskNotificationResponse(message: Buffer): Buffer {
  const channelEnd = message.indexOf(0, 9);
  const payloadEnd = channelEnd < 0 ? -1 : message.indexOf(0, channelEnd + 1);
  if (message[0] !== 0x41 || payloadEnd < 0) return message;
  const channel = message.toString('utf8', 9, channelEnd);
  const payload = message.toString('utf8', channelEnd + 1, payloadEnd);
  const maskedChannel = maskCardNumbers(channel);
  const maskedPayload = maskCardNumbers(payload);
  if (maskedChannel === channel && maskedPayload === payload) return message;
  const body = Buffer.from(`${maskedChannel}\0${maskedPayload}\0`, 'utf8');
  const out = Buffer.allocUnsafe(9 + body.length);
  message.copy(out, 0, 0, 9);
  out.writeInt32BE(8 + body.length, 1);
  body.copy(out, 9);
  return out;
}
