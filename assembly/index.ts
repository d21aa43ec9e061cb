// Entry point of the WebAssembly module: re-exports every kernel. The structs they read are drawn in
// src/core/abi.ts (offsets mirrored in assembly/abi.ts). Kernels use raw load/store on regions the
// TypeScript side hands them, allocate nothing, and keep no state between calls except in the caller's
// scratch, so one instance per (thread, arena) over a shared memory is safe.
import { kAbiVersion } from './abi';

export function abiVersion(): i32 {
  return kAbiVersion;
}

export { dictMasked } from './match/exact';
export { dictWildcard } from './match/wildcard';
export { dictFuzzy } from './match/levenshtein';
export { scan } from './scan';
export { gatherSlots, unionSorted } from './candidates';
