/** uuid.parse: the fields of an RFC 4122 UUID (and versions 6-8), as OPA reports them. */
import { rawJson } from './exact.js';
import type { HostBuiltin } from './types.js';

/** 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch. */
const GREGORIAN_OFFSET = 122192928000000000n;

function variantName(b: number): string {
  if ((b & 0x80) === 0) return 'Reserved, NCS backward compatibility';
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Reserved, Microsoft Corporation backward compatibility';
  return 'Reserved, future definition';
}

/** Nanoseconds since the Unix epoch encoded in a time-based UUID, or undefined. */
function uuidTime(bytes: Buffer, version: number): bigint | undefined {
  const hi = bytes.readBigUInt64BE(0);
  let ticks: bigint;
  if (version === 1 || version === 2) {
    ticks =
      BigInt(bytes.readUInt32BE(0)) |
      (BigInt(bytes.readUInt16BE(4)) << 32n) |
      (BigInt(bytes.readUInt16BE(6) & 0x0fff) << 48n);
  } else if (version === 6) {
    ticks = ((hi >> 4n) & 0x0ffffffffffff000n) | (hi & 0x0fffn);
  } else if (version === 7) {
    return (hi >> 16n) * 1_000_000n;
  } else {
    return undefined;
  }
  return (ticks - GREGORIAN_OFFSET) * 100n;
}

/** 32 hex digits, dashes optional, in braces or as a URN. */
const UUID = new RegExp(
  '^(?:urn:uuid:)?\\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?' +
    '([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\\}?$',
);

/** Host implementation of uuid.parse. */
export const uuidParse: HostBuiltin = (s) => {
  if (typeof s !== 'string') return undefined;
  const hex = UUID.exec(s);
  if (!hex) return undefined;
  const bytes = Buffer.from(hex.slice(1).join(''), 'hex');
  const version = (bytes[6] ?? 0) >> 4;
  const fields: string[] = [
    `"variant":${JSON.stringify(variantName(bytes[8] ?? 0))}`,
    `"version":${version}`,
  ];
  const time = uuidTime(bytes, version);
  if (time !== undefined) fields.push(`"time":${time.toString()}`);
  if (version === 1 || version === 2) {
    const node = bytes.subarray(10, 16);
    const first = node[0] ?? 0;
    const mac = `${first & 2 ? 'local' : 'global'}:${first & 1 ? 'multicast' : 'unicast'}`;
    fields.push(
      `"clocksequence":${bytes.readUInt16BE(8) & 0x3fff}`,
      `"nodeid":${JSON.stringify([...node].map((b) => b.toString(16).padStart(2, '0')).join('-'))}`,
      `"macvariables":${JSON.stringify(mac)}`,
    );
  }
  if (version === 2) {
    const domains = ['Person', 'Group', 'Org'];
    const d = bytes[9] ?? 0;
    fields.push(
      `"domain":${JSON.stringify(domains[d] ?? `Domain${d}`)}`,
      `"id":${bytes.readUInt32BE(0)}`,
    );
  }
  // Raw JSON, so the nanosecond time keeps every digit.
  return rawJson(`{${fields.join(',')}}`);
};
