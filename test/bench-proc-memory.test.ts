import { describe, expect, it } from 'vitest';
import { memoryMap, MiB } from '../bench/proc-memory.js';
import { libc } from '../src/core/libc.js';

/** MADV_HUGEPAGE: sets a flag on the range, which the kernel keeps as a mapping of its own. */
const kMadvHugepage = 14;

describe('bench/proc-memory memoryMap', () => {
  it.runIf(process.platform === 'linux' && libc() !== undefined)('counts a wasm memory split into several mappings as wasm', () => {
    const before = memoryMap().wasm;
    const memory = new WebAssembly.Memory({ initial: (64 * MiB) / 65536, maximum: 65536, shared: true });
    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < 48 * MiB; i += 4096) bytes[i] = 1; // 48 MiB resident
    // the arena's shard regions are advised this way (src/core/page-populate.ts): [16, 32) MiB becomes its own mapping
    expect(libc()!.madvise(bytes.subarray(16 * MiB), 16 * MiB, kMadvHugepage)).toBe(0);
    const wasm = memoryMap().wasm - before;
    expect(wasm).toBeGreaterThanOrEqual(48 * MiB);
    expect(wasm).toBeLessThanOrEqual(64 * MiB);
    expect(bytes[47 * MiB]).toBe(1);
  });
});
