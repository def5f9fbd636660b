/**
 * Reading result values as text for the card-number backstop. PostgreSQL's binary send formats
 * (extended protocol, format 1) are decoded where a type can carry a card number in a form a
 * byte scan would miss: `int8` is eight big-endian bytes, `numeric` base-10000 digit words,
 * `float8` an IEEE double (exact up to 2^53, so every 15- and most 16-digit numbers), and arrays
 * of those hold them as elements.
 */

/** Type OIDs whose text and binary forms are the same UTF-8 bytes (text, char, json, xml...). */
export const TEXT_LIKE = new Set([25, 1043, 1042, 19, 705, 18, 114, 142]);
/** `unknown`: also the type the COPY masker gives values, whose real types COPY does not say. */
export const UNKNOWN_OID = 705;
// Type OIDs the backstop reads from binary (beyond the text-like ones).
const INT8 = 20;
const NUMERIC = 1700;
const FLOAT8 = 701;
const JSONB = 3802;
// Arrays whose elements the backstop reads: text, varchar, bpchar, int8, numeric, float8, json,
// jsonb.
const ARRAYS = new Set([1009, 1015, 1014, 1016, 1231, 1022, 199, 3807]);

/**
 * The value as text the card-number detector can read, or null when the binary form of its type
 * cannot be read (it is then neither scanned nor changed: types the backstop does not know, such
 * as dates and int4, cannot hold 13 digits exactly).
 */
export function valueText(
  typeOid: number,
  format: number,
  bytes: Buffer,
  start: number,
  end: number,
): string | null {
  if (format === 0) return floatText(typeOid, bytes.toString('utf8', start, end));
  if (TEXT_LIKE.has(typeOid)) return bytes.toString('utf8', start, end);
  if (typeOid === JSONB) return bytes.toString('utf8', start + 1, end);
  if (end - start === 8 && typeOid === INT8) return int8Text(bytes, start);
  if (end - start === 8 && typeOid === FLOAT8) return integral(bytes.readDoubleBE(start));
  if (typeOid === NUMERIC) return numericText(bytes, start, end);
  if (ARRAYS.has(typeOid)) return arrayText(bytes, start, end);
  return null;
}

/**
 * Floats print in exponent form (`4.111111111111111e+15`), which hides the digit run from the
 * detector: an integral float of 13 digits or more is read as its integer digits. A value of type
 * `unknown` (a COPY value) that reads as such a float is taken as one too.
 */
function floatText(typeOid: number, text: string): string {
  const float = typeOid === FLOAT8 || typeOid === 700 || typeOid === UNKNOWN_OID;
  if (!float || !/[eE]/.test(text)) return text;
  return integral(Number(text)) ?? text;
}

/** An int8's digits, or null for one below 2^32 * 232 (under 10^12: too short for a card). */
function int8Text(bytes: Buffer, start: number): string | null {
  const high = bytes.readInt32BE(start);
  if (high >= 0 && high < 232) return null;
  return bytes.readBigInt64BE(start).toString();
}

function integral(value: number): string | null {
  if (!Number.isInteger(value) || Math.abs(value) < 1e12) return null;
  return BigInt(value).toString();
}

/** Binary numeric: int16 ndigits, weight, sign, dscale, then base-10000 digit words. */
function numericText(bytes: Buffer, start: number, end: number): string | null {
  if (end - start < 8) return null;
  const ndigits = bytes.readInt16BE(start);
  const weight = bytes.readInt16BE(start + 2);
  if (end - start < 8 + ndigits * 2) return null;
  let text = '';
  for (let i = 0; i < ndigits; i++) {
    const word = bytes.readUInt16BE(start + 8 + i * 2);
    text += i === 0 ? String(word) : String(word).padStart(4, '0');
    if (i === weight) text += '.';
  }
  // Words past the last stored one, up to the decimal point, are zeros.
  for (let i = ndigits; i <= weight; i++) text += '0000';
  return text;
}

/**
 * Binary arrays: int32 ndim, int32 has-nulls, int32 element type, per dimension int32 size and
 * lower bound, then per element int32 length (-1 for NULL) and its binary value. Elements are
 * read by their own type and joined with commas, so two elements never join into one digit run.
 */
function arrayText(bytes: Buffer, start: number, end: number): string | null {
  if (end - start < 12) return null;
  const ndim = bytes.readInt32BE(start);
  const elementType = bytes.readInt32BE(start + 8);
  if (ndim < 0 || ndim > 6) return null;
  let offset = start + 12 + ndim * 8;
  const parts: string[] = [];
  while (offset + 4 <= end) {
    const length = bytes.readInt32BE(offset);
    offset += 4;
    if (length < 0) continue;
    if (offset + length > end) return null;
    // An element the backstop does not read (a small int8) has nothing to scan.
    const text = valueText(elementType, 1, bytes, offset, offset + length);
    if (text !== null) parts.push(text);
    offset += length;
  }
  return parts.join(',');
}
