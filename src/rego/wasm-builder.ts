/**
 * A small WebAssembly expression builder and encoder for the generated policy functions.
 * Expressions form a tree (like binaryen's, whose method names it follows); `encodeFunction`
 * writes the instruction bytes, resolving labels to branch depths and function names to
 * indices. Only the instructions code generation needs are here.
 */

/** Value types of generated code. */
export const T = { none: 0x40, i32: 0x7f, i64: 0x7e } as const;

/** An expression node. */
export type Expr =
  | { op: 'block'; label: string | null; body: Expr[]; result: number }
  | { op: 'loop'; label: string | null; body: Expr }
  | { op: 'br'; label: string; cond?: Expr }
  | { op: 'if'; cond: Expr; then: Expr; else?: Expr }
  | { op: 'call'; fn: string; args: Expr[] }
  | { op: 'local.get'; index: number }
  | { op: 'local.set'; index: number; value: Expr }
  | { op: 'global.set'; global: string; value: Expr }
  | { op: 'i32.const'; value: number }
  | { op: 'i64.const'; value: bigint }
  | { op: 'unary'; code: number; arg: Expr }
  | { op: 'binary'; code: number; a: Expr; b: Expr }
  | { op: 'i32.load'; offset: number; ptr: Expr }
  | { op: 'return'; value?: Expr }
  | { op: 'drop'; value: Expr }
  | { op: 'nop' }
  | { op: 'memory.size' }
  | { op: 'memory.grow'; delta: Expr }
  | { op: 'memory.init'; segment: number; dest: Expr; src: Expr; size: Expr }
  | { op: 'data.drop'; segment: number };

const bin =
  (code: number) =>
  (a: Expr, b: Expr): Expr => ({ op: 'binary', code, a, b });

/** The builder: method names and argument order follow binaryen.js. */
export const wasm = {
  block: (label: string | null, body: Expr[], result: number = T.none): Expr => ({
    op: 'block',
    label,
    body,
    result,
  }),
  loop: (label: string | null, body: Expr): Expr => ({ op: 'loop', label, body }),
  br: (label: string, cond?: Expr): Expr =>
    cond ? { op: 'br', label, cond } : { op: 'br', label },
  if: (cond: Expr, then: Expr, otherwise?: Expr): Expr =>
    otherwise ? { op: 'if', cond, then, else: otherwise } : { op: 'if', cond, then },
  call: (fn: string, args: Expr[]): Expr => ({ op: 'call', fn, args }),
  local: {
    get: (index: number): Expr => ({ op: 'local.get', index }),
    set: (index: number, value: Expr): Expr => ({ op: 'local.set', index, value }),
  },
  global: {
    set: (global: string, value: Expr): Expr => ({ op: 'global.set', global, value }),
  },
  i32: {
    const: (value: number): Expr => ({ op: 'i32.const', value }),
    eqz: (arg: Expr): Expr => ({ op: 'unary', code: 0x45, arg }),
    eq: bin(0x46),
    lt_u: bin(0x49),
    ge_s: bin(0x4e),
    add: bin(0x6a),
    sub: bin(0x6b),
    and: bin(0x71),
    shl: bin(0x74),
    load: (offset: number, ptr: Expr): Expr => ({ op: 'i32.load', offset, ptr }),
  },
  i64: {
    const: (value: bigint): Expr => ({ op: 'i64.const', value: BigInt.asIntN(64, value) }),
  },
  return: (value?: Expr): Expr => (value ? { op: 'return', value } : { op: 'return' }),
  drop: (value: Expr): Expr => ({ op: 'drop', value }),
  nop: (): Expr => ({ op: 'nop' }),
  memory: {
    size: (): Expr => ({ op: 'memory.size' }),
    grow: (delta: Expr): Expr => ({ op: 'memory.grow', delta }),
    init: (segment: number, dest: Expr, src: Expr, size: Expr): Expr => ({
      op: 'memory.init',
      segment,
      dest,
      src,
      size,
    }),
  },
  data: { drop: (segment: number): Expr => ({ op: 'data.drop', segment }) },
};

/** Growable byte buffer with LEB128 writers. */
export class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    for (const b of data) this.byte(b);
  }

  u32(n: number): void {
    let v = n >>> 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.byte(v !== 0 ? b | 0x80 : b);
    } while (v !== 0);
  }

  s64(n: bigint): void {
    let v = n;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return;
    }
  }

  s32(n: number): void {
    this.s64(BigInt(n | 0));
  }

  /** A length-prefixed UTF-8 name. */
  name(s: string): void {
    const data = new TextEncoder().encode(s);
    this.u32(data.length);
    this.bytes(data);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Resolves names while encoding. */
export interface Resolver {
  func(name: string): number;
  global(name: string): number;
}

/** Encodes a function body (locals + instructions + end). `vars` are extra i32 locals. */
export function encodeFunction(body: Expr[], vars: number, resolve: Resolver): Uint8Array {
  const out = new Bytes();
  if (vars > 0) {
    out.u32(1);
    out.u32(vars);
    out.byte(T.i32);
  } else {
    out.u32(0);
  }
  const labels: Array<string | null> = [];
  for (const e of body) encode(e, out, labels, resolve);
  out.byte(0x0b);
  return out.result();
}

function depth(labels: Array<string | null>, label: string): number {
  const i = labels.lastIndexOf(label);
  if (i < 0) throw new Error(`branch to unknown label ${label}`);
  return labels.length - 1 - i;
}

function encode(e: Expr, out: Bytes, labels: Array<string | null>, r: Resolver): void {
  switch (e.op) {
    case 'block':
      out.byte(0x02);
      out.byte(e.result);
      labels.push(e.label);
      for (const x of e.body) encode(x, out, labels, r);
      labels.pop();
      out.byte(0x0b);
      return;
    case 'loop':
      out.byte(0x03);
      out.byte(T.none);
      labels.push(e.label);
      encode(e.body, out, labels, r);
      labels.pop();
      out.byte(0x0b);
      return;
    case 'br':
      if (e.cond) encode(e.cond, out, labels, r);
      out.byte(e.cond ? 0x0d : 0x0c);
      out.u32(depth(labels, e.label));
      return;
    case 'if':
      encode(e.cond, out, labels, r);
      out.byte(0x04);
      out.byte(T.none);
      labels.push(null);
      encode(e.then, out, labels, r);
      if (e.else) {
        out.byte(0x05);
        encode(e.else, out, labels, r);
      }
      labels.pop();
      out.byte(0x0b);
      return;
    case 'call':
      for (const a of e.args) encode(a, out, labels, r);
      out.byte(0x10);
      out.u32(r.func(e.fn));
      return;
    case 'local.get':
      out.byte(0x20);
      out.u32(e.index);
      return;
    case 'local.set':
      encode(e.value, out, labels, r);
      out.byte(0x21);
      out.u32(e.index);
      return;
    case 'global.set':
      encode(e.value, out, labels, r);
      out.byte(0x24);
      out.u32(r.global(e.global));
      return;
    case 'i32.const':
      out.byte(0x41);
      out.s32(e.value);
      return;
    case 'i64.const':
      out.byte(0x42);
      out.s64(e.value);
      return;
    case 'unary':
      encode(e.arg, out, labels, r);
      out.byte(e.code);
      return;
    case 'binary':
      encode(e.a, out, labels, r);
      encode(e.b, out, labels, r);
      out.byte(e.code);
      return;
    case 'i32.load':
      encode(e.ptr, out, labels, r);
      out.byte(0x28);
      out.u32(2);
      out.u32(e.offset);
      return;
    case 'return':
      if (e.value) encode(e.value, out, labels, r);
      out.byte(0x0f);
      return;
    case 'drop':
      encode(e.value, out, labels, r);
      out.byte(0x1a);
      return;
    case 'nop':
      return;
    case 'memory.size':
      out.byte(0x3f);
      out.byte(0x00);
      return;
    case 'memory.grow':
      encode(e.delta, out, labels, r);
      out.byte(0x40);
      out.byte(0x00);
      return;
    case 'memory.init':
      encode(e.dest, out, labels, r);
      encode(e.src, out, labels, r);
      encode(e.size, out, labels, r);
      out.byte(0xfc);
      out.u32(8);
      out.u32(e.segment);
      out.byte(0x00);
      return;
    case 'data.drop':
      out.byte(0xfc);
      out.u32(9);
      out.u32(e.segment);
      return;
  }
}
