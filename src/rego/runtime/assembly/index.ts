// Entry of the policy runtime. Everything exported here is either part of OPA's Wasm ABI or a
// helper (`rt_*`) the code generator calls; the generator removes the helper exports after
// linking policy code, so the finished module exports exactly the ABI.

export {
  opa_malloc, opa_free, opa_heap_ptr_get, opa_heap_ptr_set, opa_json_parse, opa_value_parse,
  opa_json_dump, opa_value_dump, opa_eval_ctx_new, opa_eval_ctx_set_input,
  opa_eval_ctx_set_data, opa_eval_ctx_set_entrypoint, opa_eval_ctx_get_result,
  opa_wasm_abi_version, opa_wasm_abi_minor_version, rt_eval_prepare, rt_eval_reset,
  rt_eval_finish, rt_host_call,
} from './abi';
export * from './helpers';
export { runtimeAbort } from './abort';
export * from './builtins_core';
export * from './builtins_str';
export * from './builtins_coll';
// The heap pointer global, so the generator finds it without debug names.
export { heapPtr as rt_heap_ptr } from './mem';
export { rt_set_arith } from './number';
export { rt_sprintf } from './json';
