/**
 * Links generated functions into the prebuilt runtime module at the binary level: new types,
 * functions and bodies are appended (so no runtime index changes), the policy's static data
 * becomes a passive data segment copied in by the new start function, and the export section
 * is rebuilt to hold exactly OPA's ABI. Reading the runtime once and appending is what keeps
 * compilation in milliseconds.
 */
import { Bytes, encodeFunction, type Expr } from './wasm-builder.js';

interface Section {
  id: number;
  body: Uint8Array;
}

interface Export {
  name: string;
  kind: number;
  index: number;
}

/** What the linker needs to know about the runtime module. */
export interface RuntimeInfo {
  sections: Section[];
  typeCount: number;
  importedFuncs: Map<string, number>;
  importedFuncCount: number;
  definedFuncCount: number;
  exports: Export[];
  startIndex: number | undefined;
  dataCount: number;
  /** First byte past the runtime's static data (16-aligned): where policy statics go. */
  staticEnd: number;
  /** Parameter count of every function, by function index. */
  funcParams: number[];
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new Error('unexpected end of module');
    return b;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? result | (~0 << shift) : result;
  }

  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  limits(): void {
    const flag = this.byte();
    this.u32();
    if (flag & 1) this.u32();
  }
}

/** Parses the sections of the runtime module that linking touches. */
export function readRuntime(bytes: Uint8Array): RuntimeInfo {
  const r = new Reader(bytes);
  r.pos = 8;
  const info: RuntimeInfo = {
    sections: [],
    typeCount: 0,
    importedFuncs: new Map(),
    importedFuncCount: 0,
    definedFuncCount: 0,
    exports: [],
    startIndex: undefined,
    dataCount: 0,
    staticEnd: 0,
    funcParams: [],
  };
  const typeParams: number[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const body = bytes.subarray(r.pos, r.pos + size);
    r.pos += size;
    if (id === 0) continue; // custom sections (names) are dropped
    info.sections.push({ id, body });
    const s = new Reader(body);
    if (id === 1) {
      info.typeCount = s.u32();
      for (let i = 0; i < info.typeCount; i++) {
        if (s.byte() !== 0x60) throw new Error('runtime type is not a function type');
        const params = s.u32();
        s.pos += params;
        typeParams.push(params);
        const results = s.u32();
        s.pos += results;
      }
    } else if (id === 2) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const mod = s.name();
        const field = s.name();
        const kind = s.byte();
        if (kind === 0) {
          info.funcParams.push(typeParams[s.u32()] ?? 0);
          info.importedFuncs.set(`${mod}.${field}`, info.importedFuncCount++);
        } else if (kind === 1) {
          s.byte();
          s.limits();
        } else if (kind === 2) s.limits();
        else {
          s.byte();
          s.byte();
        }
      }
    } else if (id === 3) {
      info.definedFuncCount = s.u32();
      for (let i = 0; i < info.definedFuncCount; i++)
        info.funcParams.push(typeParams[s.u32()] ?? 0);
    } else if (id === 7) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const name = s.name();
        const kind = s.byte();
        info.exports.push({ name, kind, index: s.u32() });
      }
    } else if (id === 8) info.startIndex = s.u32();
    else if (id === 11) {
      info.dataCount = s.u32();
      for (let i = 0; i < info.dataCount; i++) {
        const flag = s.u32();
        let offset = 0;
        if (flag === 2) s.u32();
        if (flag !== 1) {
          if (s.byte() !== 0x41) throw new Error('runtime data offset is not a constant');
          offset = s.s32();
          if (s.byte() !== 0x0b) throw new Error('runtime data offset is not a constant');
        }
        const len = s.u32();
        s.pos += len;
        info.staticEnd = Math.max(info.staticEnd, offset + len);
      }
    }
  }
  info.staticEnd = (info.staticEnd + 15) & ~15;
  return info;
}

/** Name by which generated code calls the runtime's own start function. */
export const RUNTIME_START = '$runtime_start';

/** A function to add: i32 params, an i32 result or none, extra i32 locals, its body. */
export interface NewFunction {
  name: string;
  params: number;
  result: boolean;
  vars: number;
  body: Expr[];
}

/** What to link. */
export interface LinkInput {
  functions: NewFunction[];
  /** Runtime exports to keep (by name). */
  keepExports: ReadonlySet<string>;
  /** New exports: export name -> new function name. */
  exports: Record<string, string>;
  /** Name of the new function that becomes the start function. */
  start: string;
  /** Bytes of the passive data segment the start function copies in. */
  staticData: Uint8Array;
}

/** Index of the passive data segment holding the policy statics. */
export function staticSegmentIndex(rt: RuntimeInfo): number {
  return rt.dataCount;
}

function section(out: Bytes, id: number, body: Uint8Array): void {
  out.byte(id);
  out.u32(body.length);
  out.bytes(body);
}

/** Rewrites a vector section: new count, the old entries, then the added entries. */
function appendVector(old: Uint8Array, added: Uint8Array[]): Uint8Array {
  const r = new Reader(old);
  const count = r.u32();
  const out = new Bytes();
  out.u32(count + added.length);
  out.bytes(old.subarray(r.pos));
  for (const a of added) out.bytes(a);
  return out.result();
}

/** Produces the linked module. */
export function link(rt: RuntimeInfo, input: LinkInput): Uint8Array {
  const base = rt.importedFuncCount + rt.definedFuncCount;
  const index = new Map<string, number>();
  input.functions.forEach((f, i) => index.set(f.name, base + i));
  const runtimeFuncs = new Map<string, number>();
  let heapGlobal = -1;
  for (const e of rt.exports) {
    if (e.kind === 0) runtimeFuncs.set(e.name, e.index);
    if (e.kind === 3 && e.name === 'rt_heap_ptr') heapGlobal = e.index;
  }
  const resolver = {
    func(name: string): number {
      if (name === RUNTIME_START && rt.startIndex !== undefined) return rt.startIndex;
      const own = index.get(name);
      if (own !== undefined) return own;
      const imported = rt.importedFuncs.get(`env.${name}`);
      if (imported !== undefined) return imported;
      const exported = runtimeFuncs.get(name);
      if (exported !== undefined) return exported;
      throw new Error(`unknown function ${name}`);
    },
    global(name: string): number {
      if (name !== 'rt_heap_ptr' || heapGlobal < 0) throw new Error(`unknown global ${name}`);
      return heapGlobal;
    },
  };

  // One type per function: (i32 x params) -> (i32?) appended after the runtime's types.
  const types = input.functions.map((f) => {
    const t = new Bytes();
    t.byte(0x60);
    t.u32(f.params);
    for (let i = 0; i < f.params; i++) t.byte(0x7f);
    t.u32(f.result ? 1 : 0);
    if (f.result) t.byte(0x7f);
    return t.result();
  });
  const funcTypes = input.functions.map((_, i) => {
    const t = new Bytes();
    t.u32(rt.typeCount + i);
    return t.result();
  });
  const bodies = input.functions.map((f) => {
    const code = encodeFunction(f.body, f.vars, resolver);
    const t = new Bytes();
    t.u32(code.length);
    t.bytes(code);
    return t.result();
  });

  const exports = new Bytes();
  const kept = rt.exports.filter((e) => input.keepExports.has(e.name));
  const added = Object.entries(input.exports);
  exports.u32(kept.length + added.length);
  for (const e of kept) {
    exports.name(e.name);
    exports.byte(e.kind);
    exports.u32(e.index);
  }
  for (const [name, fn] of added) {
    exports.name(name);
    exports.byte(0);
    exports.u32(resolver.func(fn));
  }

  const start = new Bytes();
  start.u32(resolver.func(input.start));
  const segment = new Bytes();
  segment.byte(0x01); // passive
  segment.u32(input.staticData.length);
  segment.bytes(input.staticData);
  const dataCount = new Bytes();
  dataCount.u32(rt.dataCount + 1);

  const out = new Bytes();
  out.bytes(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  const have = new Map(rt.sections.map((s) => [s.id, s.body]));
  for (const id of order) {
    const old = have.get(id);
    switch (id) {
      case 1:
        section(out, id, appendVector(old ?? Uint8Array.of(0), types));
        break;
      case 3:
        section(out, id, appendVector(old ?? Uint8Array.of(0), funcTypes));
        break;
      case 7:
        section(out, id, exports.result());
        break;
      case 8:
        section(out, id, start.result());
        break;
      case 12:
        section(out, id, dataCount.result());
        break;
      case 10:
        section(out, id, appendVector(old ?? Uint8Array.of(0), bodies));
        break;
      case 11:
        section(out, id, appendVector(old ?? Uint8Array.of(0), [segment.result()]));
        break;
      default:
        if (old) section(out, id, old);
    }
  }
  return out.result();
}
