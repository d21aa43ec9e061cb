/**
 * The generator's only source of randomness: sfc32 (Chris Doty-Humphrey's "small fast chaotic" PRNG,
 * as in PractRand), seeded through splitmix32. Same seed, same sequence, on every platform: only
 * 32-bit integer arithmetic (`Math.imul`, `>>> 0`), never `Math.random`.
 *
 * `hash32` is a stateless mixer for decisions that must not depend on the order in which the
 * generator happens to visit them (e.g. whether commuter c drives on day d), so that a trip split
 * over two time windows is decided the same way in both.
 */

/** splitmix32 step (Vigna's splitmix64 finaliser, 32-bit variant); good enough to spread a seed. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A fast, seedable 32-bit PRNG (sfc32). */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe integer; `stream` separates independent sequences drawn from one seed. */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.a = splitmix32(lo ^ 0x6a09e667);
    this.b = splitmix32(hi ^ 0xbb67ae85);
    this.c = splitmix32((stream ^ 0x3c6ef372) >>> 0);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.u32(); // warm up: sfc32's first outputs are correlated with the seed
  }

  /** Uniform in [0, 2^32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32 (multiply-shift; bias < n / 2^32, negligible here). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  private spare = 0;
  private hasSpare = false;

  /** Standard normal by the Marsaglia polar method (only sqrt and log: no trigonometry); it makes two, the second is kept for the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    for (;;) {
      const u = 2 * this.float() - 1;
      const v = 2 * this.float() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        this.hasSpare = true;
        return u * f;
      }
    }
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Stateless 32-bit hash of up to four integers (murmur3-style finaliser); uniform in [0, 2^32). */
export function hash32(seed: number, a: number, b = 0, c = 0): number {
  let h = splitmix32((seed ^ Math.imul(a, 0x85ebca6b)) >>> 0);
  h = splitmix32((h ^ Math.imul(b, 0xc2b2ae35)) >>> 0);
  return splitmix32((h ^ Math.imul(c, 0x27d4eb2f)) >>> 0);
}

/** hash32 as a float in [0, 1). */
export function hashFloat(seed: number, a: number, b = 0, c = 0): number {
  return hash32(seed, a, b, c) / 4294967296;
}

/**
 * Draws an index from fixed weights: the first index whose cumulative share exceeds a uniform draw.
 * A guide table (Chen & Asau 1974, as in Devroye's "Non-Uniform Random Variate Generation", III.2.4)
 * gives, for each of 2^k equal slices of [0, 1), the answer at the slice's start, and a short scan
 * goes on from there: the same index a binary search over the cumulative sums finds, in ~1 step
 * instead of log2(n) unpredictable branches (a camera is drawn this way for every read).
 * Used for small tables (makes, colours, formats, cities, cameras); vehicles are drawn by class instead.
 */
export class WeightedTable<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  /**
   * guide[s]: the first index whose cumulative share exceeds s / guide.length. The length is a power
   * of two, so floor(x · length) is exact for x = u32 / 2^32 and x is never below its slice's start.
   */
  private readonly guide: Int32Array;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    if (entries.length === 0) throw new Error('WeightedTable needs at least one entry');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach(([, w], i) => {
      sum += w;
      this.cumulative[i] = sum;
    });
    for (let i = 0; i < entries.length; i++) this.cumulative[i] = this.cumulative[i]! / sum;
    let slices = 1;
    while (slices < 2 * entries.length) slices *= 2;
    this.guide = new Int32Array(slices);
    const last = entries.length - 1;
    for (let s = 0, i = 0; s < slices; s++) {
      while (i < last && this.cumulative[i]! <= s / slices) i++;
      this.guide[s] = i;
    }
  }

  index(rng: Prng): number {
    return this.indexOf(rng.float());
  }

  /** The index a draw of `x` (uniform in [0, 1)) picks. */
  indexOf(x: number): number {
    const cumulative = this.cumulative;
    const last = cumulative.length - 1;
    let i = this.guide[Math.floor(x * this.guide.length)]!;
    while (i < last && cumulative[i]! <= x) i++;
    return i;
  }

  draw(rng: Prng): T {
    return this.items[this.index(rng)]!;
  }
}
