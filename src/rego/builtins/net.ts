/** net.* builtins over IPv4 and IPv6 addresses and CIDR blocks. */
import type { HostBuiltin } from './types.js';

interface Block {
  v6: boolean;
  addr: bigint;
  bits: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    // An embedded IPv4 address fills the last 32 bits.
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    const before = text.slice(0, lastColon);
    text = before.endsWith(':') ? `${before}:` : before;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): bigint[] | undefined => {
    if (h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = group(halves[0] ?? '');
  const rest = halves.length === 2 ? group(halves[1] ?? '') : [];
  if (!head || !rest) return undefined;
  const given = [...head, ...rest, ...tail];
  const missing = 8 - given.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...new Array<bigint>(missing).fill(0n), ...rest, ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an address or CIDR block; a bare address is a block of its full width. */
export function parseBlock(s: unknown): Block | undefined {
  if (typeof s !== 'string') return undefined;
  const [ip = '', prefix] = s.split('/');
  const v6 = ip.includes(':');
  const addr = v6 ? parseV6(ip) : parseV4(ip);
  if (addr === undefined) return undefined;
  const width = v6 ? 128 : 32;
  const bits = prefix === undefined ? width : /^\d+$/.test(prefix) ? Number(prefix) : -1;
  if (bits < 0 || bits > width) return undefined;
  return { v6, addr, bits };
}

function network(b: Block): bigint {
  const width = BigInt(b.v6 ? 128 : 32);
  const host = width - BigInt(b.bits);
  return (b.addr >> host) << host;
}

function contains(outer: Block, inner: Block): boolean {
  if (outer.v6 !== inner.v6 || inner.bits < outer.bits) return false;
  const width = BigInt(outer.v6 ? 128 : 32);
  const host = width - BigInt(outer.bits);
  return inner.addr >> host === outer.addr >> host;
}

/** Host implementations of net builtins. */
export const NET_BUILTINS: Record<string, HostBuiltin> = {
  'net.cidr_contains': (cidr, x) => {
    const outer = parseBlock(cidr);
    const inner = parseBlock(x);
    if (!outer || !inner || typeof cidr !== 'string' || !cidr.includes('/')) return undefined;
    return contains(outer, inner);
  },
  'net.cidr_intersects': (a, b) => {
    const x = parseBlock(a);
    const y = parseBlock(b);
    if (!x || !y) return undefined;
    if (x.v6 !== y.v6) return false;
    const small = x.bits <= y.bits ? x : y;
    const other = small === x ? y : x;
    return contains({ ...small, addr: network(small) }, other);
  },
};
