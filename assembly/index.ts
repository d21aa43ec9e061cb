// Entry point of the WebAssembly module: re-exports every kernel. See assembly/README.md for the ABI.
export function abiVersion(): i32 {
  return 1;
}
