/**
 * YAML nodes to {@link RValue} without losing number precision: a plain numeric scalar keeps
 * the digits written in the file (the `yaml` package would round `12345678901234567890123`).
 */
import { isMap, isScalar, isSeq, isAlias, type Document, type Node } from 'yaml';
import { PgwardenError } from '../../errors.js';
import { isNumberText } from './number.js';
import { arr, bool, NULL, num, obj, str, type RValue } from './value.js';

/**
 * Converts one YAML node (from a document parsed with `keepSourceTokens`) to a value. With
 * `typedKeys`, a mapping key keeps its YAML type (`7:` is the number 7), as regorus reads its
 * expected results; otherwise keys become strings as OPA's loader makes them.
 */
export function yamlToValue(node: unknown, doc: Document, typedKeys = false): RValue {
  if (node === null || node === undefined) return NULL;
  if (isAlias(node)) return yamlToValue(node.resolve(doc), doc, typedKeys);
  if (isScalar(node)) return scalarToValue(node.value, node.srcToken);
  if (isSeq(node)) return arr(node.items.map((n) => yamlToValue(n, doc, typedKeys)));
  if (isMap(node)) {
    return obj(
      node.items.map((pair) => {
        const key = yamlToValue(pair.key, doc, typedKeys);
        const k = key.t === 'str' || typedKeys ? key : str(keyString(key));
        return [k, yamlToValue(pair.value, doc, typedKeys)] as const;
      }),
    );
  }
  throw new PgwardenError('ERR_INTERNAL', `unexpected YAML node ${String(node)}`);
}

/**
 * YAML keys that are not strings (`1:`, `true:`) become strings, as OPA's loader (YAML to JSON)
 * makes them.
 */
function keyString(v: RValue): string {
  if (v.t === 'num' || v.t === 'bool') return String(v.v);
  if (v.t === 'null') return 'null';
  throw new PgwardenError('ERR_INTERNAL', 'a YAML mapping key must be a scalar');
}

function scalarToValue(value: unknown, token: unknown): RValue {
  if (value === null || value === undefined) return NULL;
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const source = sourceText(token);
    if (source !== undefined && isNumberText(source)) return num(source);
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new PgwardenError('ERR_INTERNAL', `YAML number ${String(value)} is not JSON`);
    }
    return num(value);
  }
  throw new PgwardenError('ERR_INTERNAL', `unexpected YAML scalar ${typeof value}`);
}

function sourceText(token: unknown): string | undefined {
  if (token && typeof token === 'object' && 'source' in token) {
    const s = (token as { source: unknown }).source;
    return typeof s === 'string' ? s.trim() : undefined;
  }
  return undefined;
}

/** Reads a plain string-keyed map node into a JS record of child nodes. */
export function mapEntries(node: unknown): Map<string, Node | null> {
  const out = new Map<string, Node | null>();
  if (!isMap(node)) return out;
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    out.set(k, (pair.value as Node | null) ?? null);
  }
  return out;
}
