// The kernel ABI this host code expects: the wasm exports `abi_version` (assembly/index.ts) and the
// loader refuses a module whose number differs. Bump both together when the exports change.
export const KERNEL_ABI_VERSION = 8;
