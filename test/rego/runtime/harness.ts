/**
 * Drives the bare runtime module (dist/rego-runtime.wasm) from tests: JSON text in, values out,
 * and calls of its rt_* helpers by name.
 */
import { runtimeWasm } from '../../../src/rego/runtime/locate.js';

type Fn = (...args: number[]) => number;

/** The parts of the WebAssembly global used here (Node's types do not declare it). */
interface Wasm {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** A runtime instance with helpers to move text in and out of its memory. */
export interface RuntimeHarness {
  fn(name: string): Fn;
  parse(json: string, rego?: boolean): number;
  dump(value: number, rego?: boolean): string;
  str(s: string): number;
  reset(): void;
}

/** Instantiates the runtime with an OPA-like environment (imported memory, abort throws). */
export function runtimeHarness(): RuntimeHarness {
  const memory = new WebAssembly.Memory({ initial: 5 });
  const text = (addr: number): string => {
    const bytes = new Uint8Array(memory.buffer);
    let end = addr;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(addr, end));
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(runtimeWasm()), {
    env: {
      memory,
      opa_abort: (addr: number) => {
        throw new Error(text(addr));
      },
      opa_println: () => undefined,
      ...Object.fromEntries([0, 1, 2, 3, 4].map((n) => [`opa_builtin${n}`, () => 0])),
    },
  });
  const exports = instance.exports as Record<string, Fn | undefined>;
  const fn = (name: string): Fn => {
    const f = exports[name];
    if (!f) throw new Error(`no export ${name}`);
    return f;
  };
  const base = fn('opa_heap_ptr_get')();
  const put = (s: string): [number, number] => {
    const bytes = new TextEncoder().encode(s);
    const addr = fn('opa_malloc')(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, addr);
    return [addr, bytes.length];
  };
  return {
    fn,
    parse(json, rego = false) {
      const [addr, len] = put(json);
      return fn(rego ? 'opa_value_parse' : 'opa_json_parse')(addr, len);
    },
    dump(value, rego = false) {
      return text(fn(rego ? 'opa_value_dump' : 'opa_json_dump')(value));
    },
    str(s) {
      const [addr, len] = put(s);
      return fn('rt_string')(addr, len);
    },
    reset() {
      fn('opa_heap_ptr_set')(base);
    },
  };
}
