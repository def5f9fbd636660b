/**
 * A minimal, deterministic writer of gzipped ustar archives for bundles. Entries carry fixed
 * metadata (mode 0644, mtime 0, no owner), so the same inputs always give the same bytes and
 * the bundle hash identifies the policy, not the moment it was built.
 */
import { gzipSync } from 'node:zlib';

/** One file of the archive: its path inside the tar and its contents. */
export interface TarEntry {
  name: string;
  data: Uint8Array;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** The 512-byte ustar header of one regular file. */
function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  let path = Buffer.from(name, 'utf8');
  let prefix = Buffer.alloc(0);
  if (path.length > 100) {
    // ustar splits long paths at a slash into prefix (155 bytes) and name (100 bytes).
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = Buffer.from(name.slice(0, cut), 'utf8');
    path = Buffer.from(name.slice(cut + 1), 'utf8');
    if (prefix.length > 155 || path.length > 100) throw new RangeError(`path too long: ${name}`);
  }
  path.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.fill(' ', 148, 156);
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  prefix.copy(h, 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Packs the entries (in the given order) into a gzipped tar. */
export function packTarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e.name, e.data.length), Buffer.from(e.data));
    const padding = (512 - (e.data.length % 512)) % 512;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  // Two zero blocks end the archive.
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}
