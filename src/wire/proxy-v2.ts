/**
 * PROXY protocol version 2 (HAProxy's binary header), as a TCP load balancer sends it before the
 * client's first byte. Only connections from configured proxy addresses may send it; the address
 * it carries becomes the client address that policy and audit see.
 */
import { ProtocolError } from './errors.js';

/** The 12-byte signature that starts every v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** What a header says: the original source, or `local` for a health check by the proxy. */
export type ProxyHeader =
  { command: 'proxy'; sourceAddr: string; sourcePort: number } | { command: 'local' };

/**
 * Tries to read a header at the start of `buf`. Returns null when more bytes are needed, or the
 * header and its total length. Throws a ProtocolError when the bytes are not a valid header.
 */
export function parseProxyV2(buf: Buffer): { header: ProxyHeader; length: number } | null {
  const prefix = Math.min(buf.length, 12);
  if (!buf.subarray(0, prefix).equals(PROXY_V2_SIGNATURE.subarray(0, prefix))) {
    throw new ProtocolError('expected a PROXY protocol v2 header');
  }
  if (buf.length < 16) return null;
  const versionCommand = buf[12]!;
  const family = buf[13]!;
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return null;
  if (versionCommand >> 4 !== 2) throw new ProtocolError('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command === 0) return { header: { command: 'local' }, length };
  if (command !== 1) throw new ProtocolError('unsupported PROXY protocol command');
  const addressFamily = family >> 4;
  if (addressFamily === 1 && length >= 16 + 12) {
    const source = [...buf.subarray(16, 20)].join('.');
    return {
      header: { command: 'proxy', sourceAddr: source, sourcePort: buf.readUInt16BE(24) },
      length,
    };
  }
  if (addressFamily === 2 && length >= 16 + 36) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(16 + i * 2).toString(16));
    const source = groups.join(':');
    return {
      header: { command: 'proxy', sourceAddr: source, sourcePort: buf.readUInt16BE(48) },
      length,
    };
  }
  // AF_UNSPEC or AF_UNIX: the proxy does not know the source; treat like LOCAL.
  return { header: { command: 'local' }, length };
}

/** Encodes a PROXY v2 header for an IPv4 source (used by tests and by chained proxies). */
export function proxyV2Header(
  sourceAddr: string,
  sourcePort: number,
  destAddr: string,
  destPort: number,
): Buffer {
  const out = Buffer.alloc(28);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21;
  out[13] = 0x11;
  out.writeUInt16BE(12, 14);
  sourceAddr.split('.').forEach((part, i) => (out[16 + i] = Number(part)));
  destAddr.split('.').forEach((part, i) => (out[20 + i] = Number(part)));
  out.writeUInt16BE(sourcePort, 24);
  out.writeUInt16BE(destPort, 26);
  return out;
}
