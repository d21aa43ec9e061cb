/**
 * A multimap from packed plate keys (integers < 2^53, see src/query/hotlist.ts) to hot-list entries:
 * open addressing over a Float64Array of keys with linear probing, and per key a chain of (entry) pairs.
 * A JS Map keyed by such numbers hashes heap numbers through the runtime and was the hot-list bottleneck.
 */
export class PackedKeyIndex {
  private keys: Float64Array;
  private heads: Int32Array;
  private mask: number;
  private used = 0;
  private pairEntry: Int32Array;
  private pairNext: Int32Array;
  private pairs = 0;

  constructor(expectedKeys = 16) {
    const size = 1 << Math.max(4, Math.ceil(Math.log2(expectedKeys * 2 + 1)));
    this.keys = new Float64Array(size).fill(-1);
    this.heads = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.pairEntry = new Int32Array(Math.max(16, expectedKeys));
    this.pairNext = new Int32Array(Math.max(16, expectedKeys));
  }

  get size(): number {
    return this.used;
  }

  private slotOf(key: number): number {
    const hi = Math.floor(key / 4294967296);
    const lo = (key - hi * 4294967296) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let slot = h & this.mask;
    const keys = this.keys;
    while (keys[slot] !== key && keys[slot] !== -1) slot = (slot + 1) & this.mask;
    return slot;
  }

  add(key: number, entry: number): void {
    if ((this.used + 1) * 2 > this.keys.length) this.grow();
    const slot = this.slotOf(key);
    if (this.keys[slot] === -1) {
      this.keys[slot] = key;
      this.used++;
    }
    const head = this.heads[slot]!;
    if (head >= 0 && this.pairEntry[head] === entry) return; // the same entry again (e.g. two equal deletes)
    if (this.pairs === this.pairEntry.length) {
      const e = new Int32Array(this.pairs * 2);
      e.set(this.pairEntry);
      const n = new Int32Array(this.pairs * 2);
      n.set(this.pairNext);
      this.pairEntry = e;
      this.pairNext = n;
    }
    const p = this.pairs++;
    this.pairEntry[p] = entry;
    this.pairNext[p] = head;
    this.heads[slot] = p;
  }

  /** Calls `visit` for every entry under `key`. */
  forEach(key: number, visit: (entry: number) => void): void {
    const head = this.heads[this.slotOf(key)]!;
    for (let p = head; p >= 0; p = this.pairNext[p]!) visit(this.pairEntry[p]!);
  }

  private grow(): void {
    const oldKeys = this.keys, oldHeads = this.heads;
    const size = oldKeys.length * 2;
    this.keys = new Float64Array(size).fill(-1);
    this.heads = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] === -1) continue;
      const slot = this.slotOf(oldKeys[i]!);
      this.keys[slot] = oldKeys[i]!;
      this.heads[slot] = oldHeads[i]!;
    }
  }
}
