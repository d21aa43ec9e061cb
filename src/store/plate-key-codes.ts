/**
 * Plate key (src/store/plate-key.ts) → dictionary code, as an open-addressing table in two typed arrays:
 * the live plate dictionary's lookup (src/store/live-columns.ts). It replaced a `Map<string, number>`,
 * which cost a string hash per append and ~40 B of JS heap a distinct plate; this costs ≤ 24 B (12 B a slot,
 * at most half full) outside the collected heap, and columns from a parse worker look plates up by key
 * without making a string.
 *
 * The two arrays come from a TableMemory (src/store/table-memory.ts): the live generation's are regions of the
 * engine's arenas, freed as the table grows out of them and when `free` is called (its generation freed).
 */
import { jsTables, type TableMemory } from './table-memory.js';

/** Slots start at this and double when half full. */
const kInitialSlots = 1024;

export class PlateKeyCodes {
  /** Keys by slot, 0 = empty (a plate has at least one character, so its key is ≥ 1). */
  private keys: Float64Array;
  private codes: Int32Array;
  private count = 0;

  constructor(private readonly memory: TableMemory = jsTables) {
    this.keys = memory.float64(kInitialSlots).fill(0);
    this.codes = memory.int32(kInitialSlots);
  }

  get size(): number {
    return this.count;
  }

  /** The code of `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let s = hash(key) & mask; ; s = (s + 1) & mask) {
      const k = keys[s]!;
      if (k === key) return this.codes[s]!;
      if (k === 0) return -1;
    }
  }

  /** Adds `key` (not present) with `code`. */
  set(key: number, code: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    this.insert(key, code);
    this.count++;
  }

  private insert(key: number, code: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let s = hash(key) & mask;
    while (keys[s] !== 0) s = (s + 1) & mask;
    keys[s] = key;
    this.codes[s] = code;
  }

  private grow(): void {
    const keys = this.keys, codes = this.codes;
    this.keys = this.memory.float64(keys.length * 2).fill(0);
    this.codes = this.memory.int32(keys.length * 2);
    for (let s = 0; s < keys.length; s++) if (keys[s] !== 0) this.insert(keys[s]!, codes[s]!);
    // nothing reads a table's arrays across a call: the grown-out ones go back now
    this.memory.free(keys);
    this.memory.free(codes);
  }

  /** Gives the arrays back to their memory; the table must not be used after. */
  free(): void {
    this.memory.free(this.keys);
    this.memory.free(this.codes);
    // one empty slot: a lookup after this finds nothing (and ends)
    this.keys = new Float64Array(1);
    this.codes = new Int32Array(1);
    this.count = 0;
  }
}

/** A mix of the key's two 32-bit halves (keys are integers < 2^53). */
function hash(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 13);
}
