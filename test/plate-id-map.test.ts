/**
 * Plate codes of a sorted dictionary mapped into a bigger sorted dictionary (src/store/plate-id-map.ts),
 * against a naive oracle (the position of the plate string in the bigger dictionary's sorted strings), on
 * random dictionaries of prefix families (prefixes and their extensions are where zero-padded slot order
 * could disagree with string order). And the property the design rests on: a lane mapped into a tenant
 * dictionary and then remapped through that dictionary's growth equals the lane mapped afresh into the
 * grown dictionary, and the mapping keeps order (a plate → rows index ordered by code stays ordered).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kPlateSlotBytes } from '../src/core/segment.js';
import { Arena, ArenaSet } from '../src/core/arena.js';
import { buildPlateIndex, type SlotPart } from '../src/store/plate-index-build.js';
import { PlateIndexThread } from '../src/store/plate-index-thread.js';
import { idsIn, mergeWithIds, remapCodes, slotWords } from '../src/store/plate-id-map.js';
import { plateArb, relatedPlateArb } from './helpers/arbitraries.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261202;

/** Sorted, duplicate-free plates as 16-byte slots (as a shard file stores them) and as words. */
function slotsOf(sorted: readonly string[]): Uint32Array {
  const bytes = new Uint8Array(sorted.length * kPlateSlotBytes);
  sorted.forEach((p, d) => {
    for (let j = 0; j < p.length; j++) bytes[d * kPlateSlotBytes + j] = p.charCodeAt(j);
    bytes[d * kPlateSlotBytes + 15] = p.length;
  });
  return slotWords(bytes, sorted.length);
}

const sortedSet = (plates: Iterable<string>) => [...new Set(plates)].sort();

/** Plates with many shared prefixes: bases, their relatives, and their prefixes. */
const familyArb = fc
  .array(plateArb.chain((b) => fc.array(relatedPlateArb(b), { maxLength: 6 }).map((r) => [b, b.slice(0, Math.max(1, b.length - 2)), ...r])), { minLength: 1, maxLength: 40 })
  .map((groups) => groups.flat());

/** A tenant dictionary and a shard's dictionary drawn from it (a random subset). */
const pairArb = familyArb.chain((plates) => {
  const big = sortedSet(plates);
  return fc.array(fc.boolean(), { minLength: big.length, maxLength: big.length }).map((keep) => ({ big, small: big.filter((_, i) => keep[i]) }));
});

describe('idsIn', () => {
  it('finds every plate of the smaller dictionary at its position in the bigger one', () => {
    fc.assert(
      fc.property(pairArb, ({ big, small }) => {
        const ids = idsIn(slotsOf(small), small.length, slotsOf(big), big.length);
        expect([...ids]).toEqual(small.map((p) => big.indexOf(p)));
        // monotone: codes in order map to ids in order
        for (let c = 1; c < ids.length; c++) expect(ids[c]!).toBeGreaterThan(ids[c - 1]!);
      }),
      { numRuns: 300, seed },
    );
  });

  it('maps a dictionary into itself as the identity, and an empty one to nothing', () => {
    fc.assert(
      fc.property(familyArb, (plates) => {
        const d = sortedSet(plates);
        expect([...idsIn(slotsOf(d), d.length, slotsOf(d), d.length)]).toEqual(d.map((_, i) => i));
        expect(idsIn(slotsOf([]), 0, slotsOf(d), d.length).length).toBe(0);
      }),
      { numRuns: 100, seed },
    );
  });

  it('refuses a plate the bigger dictionary does not hold (never maps it to a neighbour)', () => {
    fc.assert(
      fc.property(pairArb, fc.nat(), ({ big }, pick) => {
        fc.pre(big.length >= 2);
        const missing = big[pick % big.length]!;
        const without = big.filter((p) => p !== missing);
        expect(() => idsIn(slotsOf([missing]), 1, slotsOf(without), without.length)).toThrow(RangeError);
        expect(() => idsIn(slotsOf(big), big.length, slotsOf(without), without.length)).toThrow(RangeError);
      }),
      { numRuns: 200, seed },
    );
    // a prefix and its extension are different plates
    expect(() => idsIn(slotsOf(['AB']), 1, slotsOf(['A', 'AB1', 'ABC']), 3)).toThrow(RangeError);
    expect(() => idsIn(slotsOf(['AB1']), 1, slotsOf(['AB', 'AB10']), 2)).toThrow(RangeError);
  });
});

/** The plates of `count` slots (as words), decoded: the oracle's view of a dictionary. */
function platesOf(words: Uint32Array, count: number): string[] {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, count * kPlateSlotBytes);
  const out: string[] = [];
  for (let d = 0; d < count; d++) out.push(String.fromCharCode(...bytes.subarray(d * kPlateSlotBytes, d * kPlateSlotBytes + bytes[d * kPlateSlotBytes + 15]!)));
  return out;
}

describe('mergeWithIds', () => {
  it("is the sorted union of a tenant's shard dictionaries, with each shard's positions in it", () => {
    fc.assert(
      fc.property(fc.array(familyArb.map(sortedSet), { maxLength: 9 }), fc.boolean(), (shards, repeat) => {
        // an empty shard dictionary and a shard seen twice (compaction's input and output) are legal parts
        const parts = [...shards, ...(repeat && shards.length > 0 ? [shards[0]!, []] : [])];
        const { union, ids } = mergeWithIds(parts.map((p) => ({ words: slotsOf(p), count: p.length })));
        const all = sortedSet(parts.flat());
        expect(platesOf(union.words, union.count)).toEqual(all);
        expect(ids.map((x) => [...x])).toEqual(parts.map((p) => p.map((plate) => all.indexOf(plate))));
      }),
      { numRuns: 200, seed },
    );
    expect(mergeWithIds([])).toEqual({ union: { words: new Uint32Array(0), count: 0 }, ids: [] });
  });
});

describe('remapCodes', () => {
  it("follows a tenant dictionary's growth: remapped ids equal ids mapped afresh into the grown dictionary", () => {
    fc.assert(
      fc.property(pairArb, familyArb, fc.array(fc.nat(), { maxLength: 200 }), ({ big: old, small }, added, picks) => {
        fc.pre(small.length > 0);
        const grown = sortedSet([...old, ...added]);
        // a shard's plate lane (codes into its own dictionary), as tenant ids before and after the growth
        const lane = Uint16Array.from(picks, (x) => x % small.length);
        const before = new Uint32Array(lane.length);
        remapCodes(lane, idsIn(slotsOf(small), small.length, slotsOf(old), old.length), before);
        const after = new Uint32Array(lane.length);
        remapCodes(before, idsIn(slotsOf(old), old.length, slotsOf(grown), grown.length), after);
        const fresh = new Uint32Array(lane.length);
        remapCodes(lane, idsIn(slotsOf(small), small.length, slotsOf(grown), grown.length), fresh);
        expect([...after]).toEqual([...fresh]);
        // and every id names the row's plate
        expect([...after].map((id) => grown[id])).toEqual([...lane].map((c) => small[c]));
      }),
      { numRuns: 300, seed },
    );
  });

  it('rewrites a lane in place when it is wide enough, and refuses a short output', () => {
    const lane = Uint32Array.from([2, 0, 1, 2]);
    remapCodes(lane, Uint32Array.from([10, 20, 30]), lane);
    expect([...lane]).toEqual([30, 10, 20, 30]);
    expect(() => remapCodes(Uint8Array.from([0, 1]), Uint32Array.from([5, 6]), new Uint32Array(1))).toThrow(RangeError);
  });
});

describe('buildPlateIndex with ids (the plate-index worker’s merge)', () => {
  const arena = new Arena(0, { maxBytes: 64 * 1024 * 1024 });
  /** Slots copied into the arena, as a shard's or the current dictionary's are there. */
  const inArena = (words: Uint32Array): number => {
    const ptr = arena.alloc(Math.max(16, words.byteLength), 16);
    new Uint32Array(arena.memory.buffer, ptr, words.length).set(words);
    return ptr;
  };

  it("answers each part's positions in the merged dictionary: shards' code → id maps and the current dictionary's growth map", () => {
    fc.assert(
      fc.property(familyArb.map(sortedSet), fc.array(familyArb.map(sortedSet), { maxLength: 6 }), fc.boolean(), (current, shards, withCurrent) => {
        const taken: number[] = [];
        try {
          const parts: SlotPart[] = shards.map((p, k) => ({ arena: 0, ptr: p.length > 0 ? (taken.push(inArena(slotsOf(p))), taken.at(-1)!) : 0, count: p.length, masks: null, bucket: k }));
          if (withCurrent) {
            taken.push(inArena(slotsOf(current)));
            parts.push({ arena: 0, ptr: taken.at(-1)!, count: current.length, masks: new Uint32Array(current.length * 2).fill(1 << 31), bucket: -1 });
          }
          const built = buildPlateIndex({ parts, grams: false, sameCount: 0, ids: true }, () => arena.memory);
          const union = platesOf(built.words, built.count);
          const dicts = [...shards, ...(withCurrent ? [current] : [])];
          expect(union).toEqual(sortedSet(dicts.flat()));
          expect(built.ids!.map((x) => [...x])).toEqual(dicts.map((d) => d.map((plate) => union.indexOf(plate))));
          // the current dictionary's part is its growth map: what idsIn would find, and lanes remapped through it
          if (withCurrent && current.length > 0) expect([...built.ids!.at(-1)!]).toEqual([...idsIn(slotsOf(current), current.length, built.words, built.count)]);
          // without asking, no ids (the engine's builds today)
          expect(buildPlateIndex({ parts, grams: false, sameCount: 0 }, () => arena.memory).ids).toBeUndefined();
        } finally {
          for (const p of taken) arena.free(p);
        }
      }),
      { numRuns: 200, seed },
    );
  });
});

describe('buildPlateIndex: the one-pass merge of many parts', () => {
  const arena = new Arena(0, { maxBytes: 64 * 1024 * 1024 });

  it('is the sorted union with every part’s masks ORed per plate and its positions, over up to 24 parts', () => {
    const partArb = fc.record({ plates: familyArb.map(sortedSet), bucket: fc.nat(63), masks: fc.option(fc.array(fc.nat(0xffffffff), { minLength: 2, maxLength: 2 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 24 }), (drawn) => {
        const taken: number[] = [];
        try {
          // a part with masks (the current dictionary's) gives each of its plates a pair drawn from its two words
          const maskOf = (k: number, d: number): [number, number] => {
            const m = drawn[k]!.masks;
            return m ? [(m[0]! ^ Math.imul(d, 0x9e3779b1)) >>> 0, (m[1]! + d) >>> 0] : drawn[k]!.bucket < 32 ? [(1 << drawn[k]!.bucket) >>> 0, 0] : [0, (1 << (drawn[k]!.bucket - 32)) >>> 0];
          };
          const parts: SlotPart[] = drawn.map(({ plates, bucket, masks }, k) => {
            const ptr = plates.length > 0 ? arena.alloc(plates.length * kPlateSlotBytes, 16) : 0;
            if (plates.length > 0) new Uint32Array(arena.memory.buffer, ptr, plates.length * 4).set(slotsOf(plates));
            if (plates.length > 0) taken.push(ptr);
            const m = masks ? new Uint32Array(plates.flatMap((_, d) => maskOf(k, d))) : null;
            return { arena: 0, ptr, count: plates.length, masks: m, bucket };
          });
          const built = buildPlateIndex({ parts, grams: false, sameCount: 0, ids: true }, () => arena.memory);
          // the plain definition: the sorted distinct plates; per plate the OR of its parts' masks
          const union = sortedSet(drawn.flatMap((p) => p.plates));
          const expected = new Map(union.map((p) => [p, [0, 0]]));
          drawn.forEach((p, k) => p.plates.forEach((plate, d) => {
            const e = expected.get(plate)!, m = maskOf(k, d);
            e[0] = (e[0]! | m[0]) >>> 0;
            e[1] = (e[1]! | m[1]) >>> 0;
          }));
          expect(platesOf(built.words, built.count)).toEqual(union);
          expect([...built.masks]).toEqual(union.flatMap((p) => expected.get(p)!));
          expect(built.ids!.map((x) => [...x])).toEqual(drawn.map((p) => p.plates.map((plate) => union.indexOf(plate))));
        } finally {
          for (const p of taken) arena.free(p);
        }
      }),
      { numRuns: 200, seed },
    );
  });
});

describe('the plate-index worker answers the ids', () => {
  it('transfers every part’s ids back from the thread, equal to the inline build’s', async () => {
    const arenas = new ArenaSet({ arenaBytes: 4 * 1024 * 1024 });
    const thread = new PlateIndexThread(arenas);
    try {
      const dicts = [sortedSet(['AB1', 'AB12', 'ZZ9', 'C4']), [], sortedSet(['AB1', 'B7', 'ZZ9']), sortedSet(['A', 'AB12'])];
      const parts: SlotPart[] = dicts.map((d, k) => {
        const r = arenas.alloc(Math.max(16, d.length * kPlateSlotBytes), 16);
        new Uint32Array(arenas.arena(r.arena).memory.buffer, r.ptr, d.length * 4).set(slotsOf(d));
        return { arena: r.arena, ptr: r.ptr, count: d.length, masks: null, bucket: k };
      });
      const job = { parts, grams: true, sameCount: 0, ids: true };
      const built = await thread.build(job);
      const inline = buildPlateIndex(job, (a) => arenas.arena(a).memory);
      expect(built!.ids!.map((x) => [...x])).toEqual(inline.ids!.map((x) => [...x]));
      // union: A AB1 AB12 B7 C4 ZZ9
      expect(built!.ids!.map((x) => [...x])).toEqual([[1, 2, 4, 5], [], [1, 3, 5], [0, 2]]);
    } finally {
      await thread.close();
    }
  });
});
