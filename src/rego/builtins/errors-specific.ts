/**
 * OPA's wording for the builtin errors that depend on an operand's value, not only its type:
 * the time builtins' `[ns, zone]` operand and range check, units.parse and units.parse_bytes,
 * rand.intn, numbers.range and numbers.range_step. Each function returns the text OPA's builtin
 * returns (the module prefixes `<builtin>: `), or undefined when it sees nothing wrong. The
 * checks follow the order of OPA's topdown implementations, so the first failing operand is the
 * one named.
 */

type Check = (types: readonly string[], values: readonly unknown[]) => string | undefined;

const MIN_NS = -(2n ** 63n);
const MAX_NS = 2n ** 63n - 1n;
const TIME_OPERAND = 'either number (ns) or [number (ns), string (tz)]';

function typeError(pos: number, want: string, got: string | undefined): string {
  return `operand ${pos} must be ${want} but got ${got ?? 'null'}`;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** OPA's `IntOperand`: a number without a fractional part. */
function intOperand(pos: number, type: string | undefined, value: unknown): string | undefined {
  if (type !== 'number') return typeError(pos, 'number', type);
  if (!Number.isInteger(value)) {
    return `operand ${pos} must be integer number but got floating-point number`;
  }
  return undefined;
}

/** OPA's `BigIntOperand`: as IntOperand, but a wrong type asks for an "integer". */
function bigIntOperand(pos: number, type: string | undefined, value: unknown): string | undefined {
  if (type !== 'number') return typeError(pos, 'integer', type);
  return intOperand(pos, type, value);
}

function knownZone(zone: string): boolean {
  if (zone === '' || zone === 'UTC' || zone === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** OPA's `tzTime`: the `ns` or `[ns, zone, layout]` operand of the time builtins. */
function timeOperand(type: string | undefined, value: unknown): string | undefined {
  let ns = value;
  if (type === 'array' && Array.isArray(value)) {
    if (value.length === 0) return typeError(1, TIME_OPERAND, 'array');
    ns = value[0];
    if (typeof ns !== 'number') return typeError(1, 'number', typeName(ns));
    const zone: unknown = value[1];
    if (value.length > 1) {
      if (typeof zone !== 'string') return typeError(1, 'string', typeName(zone));
      if (!knownZone(zone)) return `unknown time zone ${zone}`;
    }
    if (value.length > 2 && typeof value[2] !== 'string') {
      return typeError(1, 'string', typeName(value[2]));
    }
  } else if (type !== 'number') {
    return typeError(1, TIME_OPERAND, type);
  }
  if (typeof ns === 'number' && !Number.isInteger(ns)) return 'timestamp too big';
  if (typeof ns === 'number' && (BigInt(ns) < MIN_NS || BigInt(ns) > MAX_NS)) {
    return 'timestamp too big';
  }
  return undefined;
}

/** Splits a units string as OPA does: the amount (digits, `.`, an exponent) and the unit. */
function splitAmount(s: string): { num: string; unit: string } | 'exponent' {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (/[0-9.+-]/.test(c)) continue;
    if (c !== 'e' && c !== 'E') break;
    const next = s[i + 1];
    if (next === undefined || !/[0-9+-]/.test(next)) break;
    if (next === '+' || next === '-') i++;
    let digits = 0;
    while (/[0-9]/.test(s[i + 1 + digits] ?? '')) digits++;
    // OPA refuses exponents of more than six digits.
    if (digits > 6) return 'exponent';
  }
  return { num: s.slice(0, i), unit: s.slice(i) };
}

const UNITS = new Set(['', 'm', 'k', 'K', 'M', 'g', 'G', 't', 'T', 'p', 'P', 'e', 'E']);
const IEC = new Set(['ki', 'Ki', 'mi', 'Mi', 'gi', 'Gi', 'ti', 'Ti', 'pi', 'Pi', 'ei', 'Ei']);
const BYTE_UNITS = /^(|[kmgtpe](i?b?))$/;

/** units.parse (`bytes` false) and units.parse_bytes: OPA's messages, in OPA's order. */
function unitsMessage(bytes: boolean, types: readonly string[], values: readonly unknown[]) {
  const name = bytes ? 'units.parse_bytes' : 'units.parse';
  if (types[0] !== 'string') return typeError(1, 'string', types[0]);
  let s = String(values[0]).replace(/"/g, '');
  if (bytes) s = s.toLowerCase();
  if (s.includes(' ')) return `${name}: spaces not allowed in resource strings`;
  const split = splitAmount(s);
  if (split === 'exponent') return `${name}: exponent too large`;
  if (split.num === '') return `${name}: no ${bytes ? 'byte ' : ''}amount provided`;
  let unit = split.unit;
  if (!bytes && unit.length > 1) unit = unit[0] + unit.slice(1).toLowerCase();
  const known = bytes ? BYTE_UNITS.test(unit) : UNITS.has(unit) || IEC.has(unit);
  if (!known) return `${name}: ${bytes ? 'byte ' : ''}unit ${unit} not recognized`;
  return `${name}: could not parse ${bytes ? 'byte ' : ''}amount to a number`;
}

function timeWithInts(types: readonly string[], values: readonly unknown[]): string | undefined {
  const first = timeOperand(types[0], values[0]);
  if (first !== undefined) return first;
  for (let i = 1; i < 4; i++) {
    const bad = intOperand(i + 1, types[i], values[i]);
    if (bad !== undefined) return bad;
  }
  // Every operand is acceptable: the shifted date left the range of int64 nanoseconds.
  return 'time outside of valid range';
}

const timeOnly: Check = (types, values) => timeOperand(types[0], values[0]);

/** Builtins whose error text depends on the operands' values. */
export const VALUE_CHECKS: Readonly<Record<string, Check>> = {
  'time.add_date': timeWithInts,
  'time.date': timeOnly,
  'time.clock': timeOnly,
  'time.weekday': timeOnly,
  'time.format': timeOnly,
  'time.diff': (types, values) =>
    timeOperand(types[0], values[0]) ?? timeOperand(types[1], values[1]),
  'units.parse': (types, values) => unitsMessage(false, types, values),
  'units.parse_bytes': (types, values) => unitsMessage(true, types, values),
  'rand.intn': (types, values) =>
    types[0] !== 'string' ? typeError(1, 'string', types[0]) : intOperand(2, types[1], values[1]),
  'numbers.range': (types, values) =>
    bigIntOperand(1, types[0], values[0]) ?? bigIntOperand(2, types[1], values[1]),
  'numbers.range_step': (types, values) =>
    bigIntOperand(1, types[0], values[0]) ??
    bigIntOperand(2, types[1], values[1]) ??
    bigIntOperand(3, types[2], values[2]) ??
    'numbers.range_step: step must be a positive integer',
};
