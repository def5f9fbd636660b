// AssemblyScript's own failure hook (bounds checks and the like), routed to OPA's opa_abort so
// the SDK reports it instead of failing on a missing `env.abort` import.

import { opa_abort } from './abi';

/** Replaces AssemblyScript's default `abort`; the message details are dropped. */
export function runtimeAbort(
  _message: string | null,
  _fileName: string | null,
  _line: u32,
  _column: u32,
): void {
  opa_abort(memory.data<u8>([114, 117, 110, 116, 105, 109, 101, 32, 101, 114, 114, 111, 114, 0]));
  unreachable();
}
