/**
 * Readers of result text into {@link RValue}: JSON through `lossless-json` (the SDK's own
 * `evaluate` goes through `JSON.parse`, which rounds numbers beyond 2^53), and the Rego value
 * text `opa_value_dump` writes (JSON plus sets and non-string object keys).
 */
import { parse as parseLossless } from 'lossless-json';
import { PgwardenError } from '../../errors.js';
import { arr, bool, NULL, num, obj, set, str, type RValue } from './value.js';

/** A number as written, kept apart from strings while `lossless-json` builds the tree. */
class NumberText {
  constructor(readonly text: string) {}
}

/** Parses JSON text without losing number precision. */
export function parseJson(text: string): RValue {
  const tree = parseLossless(text, null, (s: string) => new NumberText(s));
  return treeToValue(tree);
}

function treeToValue(v: unknown): RValue {
  if (v === null) return NULL;
  if (v instanceof NumberText) return num(v.text);
  if (typeof v === 'boolean') return bool(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return arr(v.map(treeToValue));
  if (typeof v === 'object') {
    return obj(Object.entries(v).map(([k, x]) => [str(k), treeToValue(x)] as const));
  }
  throw new PgwardenError('ERR_INTERNAL', `unexpected JSON node ${typeof v}`);
}

/**
 * Parses constant Rego term text: JSON, plus `{a, b}` sets, `set()`, objects with any keys,
 * and trailing commas. Used for `opa_value_dump` output and for conformance `input_term`s.
 */
export function parseRegoValue(text: string): RValue {
  const p = new TermReader(text);
  const v = p.value();
  p.skipSpace();
  if (!p.atEnd()) p.fail('unexpected text after the value');
  return v;
}

class TermReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(message: string): never {
    throw new PgwardenError('ERR_INTERNAL', `${message} at offset ${this.pos} of a Rego value`);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  private eat(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  value(): RValue {
    const ch = this.peek();
    if (ch === '[') return this.array();
    if (ch === '{') return this.braces();
    if (ch === '"') return str(this.string());
    if (ch === '`') return str(this.rawString());
    const word = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]\w*)/.exec(
      this.text.slice(this.pos),
    )?.[0];
    if (!word) this.fail('expected a value');
    this.pos += word.length;
    if (word === 'null') return NULL;
    if (word === 'true' || word === 'false') return bool(word === 'true');
    if (word === 'set') {
      if (!this.eat('(') || !this.eat(')')) this.fail('expected set()');
      return set([]);
    }
    if (/^-?\d/.test(word)) return num(word);
    return this.fail(`unexpected word ${word}`);
  }

  private array(): RValue {
    this.pos++;
    const items: RValue[] = [];
    while (!this.eat(']')) {
      items.push(this.value());
      if (!this.eat(',') && this.peek() !== ']') this.fail('expected , or ]');
    }
    return arr(items);
  }

  /** `{}` is an empty object; after the first element, a `:` tells an object from a set. */
  private braces(): RValue {
    this.pos++;
    if (this.eat('}')) return obj([]);
    const first = this.value();
    if (this.eat(':')) {
      const entries: Array<[RValue, RValue]> = [[first, this.value()]];
      while (this.eat(',')) {
        if (this.peek() === '}') break;
        const k = this.value();
        if (!this.eat(':')) this.fail('expected :');
        entries.push([k, this.value()]);
      }
      if (!this.eat('}')) this.fail('expected }');
      return obj(entries);
    }
    const items = [first];
    while (this.eat(',')) {
      if (this.peek() === '}') break;
      items.push(this.value());
    }
    if (!this.eat('}')) this.fail('expected }');
    return set(items);
  }

  private string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/s.exec(this.text.slice(this.pos));
    if (!m) this.fail('unterminated string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private rawString(): string {
    const end = this.text.indexOf('`', this.pos + 1);
    if (end < 0) this.fail('unterminated raw string');
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }
}
