/** Encoding builtins: JSON, base64, base64url, hex and URL query escaping. */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { rawJson } from './exact.js';
import { isObject, type HostBuiltin } from './types.js';

/** JSON text with object keys sorted, as Go's encoding/json writes maps. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Host implementations of encoding builtins. */
export const ENCODING_BUILTINS: Record<string, HostBuiltin> = {
  'json.marshal': (v) => canonicalJson(v),
  // The text goes back unparsed, so the module parses it itself and big numbers survive.
  'json.unmarshal': (s) => (typeof s === 'string' && isJson(s) ? rawJson(s) : undefined),
  'json.is_valid': (s) => typeof s === 'string' && isJson(s),
  // The SDK answers yaml.* itself (its own yaml package); these serve other hosts alike.
  'yaml.marshal': (v) => stringifyYaml(v),
  'yaml.unmarshal': (s) => {
    if (typeof s !== 'string') return undefined;
    try {
      return parseYaml(s) as unknown;
    } catch {
      return undefined;
    }
  },
  'yaml.is_valid': (s) => {
    if (typeof s !== 'string') return undefined;
    try {
      parseYaml(s);
      return true;
    } catch {
      return false;
    }
  },
  'base64.encode': (s) =>
    typeof s === 'string' ? Buffer.from(s, 'utf8').toString('base64') : undefined,
  'base64.decode': (s) =>
    typeof s === 'string' && B64.test(s) ? Buffer.from(s, 'base64').toString('utf8') : undefined,
  'base64.is_valid': (s) => typeof s === 'string' && B64.test(s),
  'base64url.encode': (s) =>
    typeof s === 'string'
      ? Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
      : undefined,
  'base64url.encode_no_pad': (s) =>
    typeof s === 'string' ? Buffer.from(s, 'utf8').toString('base64url') : undefined,
  'base64url.decode': (s) =>
    typeof s === 'string' && B64URL.test(s)
      ? Buffer.from(s.replace(/=+$/, ''), 'base64url').toString('utf8')
      : undefined,
  'hex.encode': (s) => (typeof s === 'string' ? Buffer.from(s, 'utf8').toString('hex') : undefined),
  'hex.decode': (s) =>
    typeof s === 'string' && /^(?:[0-9a-fA-F]{2})*$/.test(s)
      ? Buffer.from(s, 'hex').toString('utf8')
      : undefined,
  'urlquery.encode': (s) =>
    typeof s === 'string'
      ? encodeURIComponent(s)
          .replace(/%20/g, '+')
          .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      : undefined,
  'urlquery.decode': (s) => {
    if (typeof s !== 'string') return undefined;
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  },
};
