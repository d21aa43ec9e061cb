/**
 * Shared by the hot-list engine tests (test/hotlist-join.test.ts, live-hotlist.test.ts, hotlist-sink-json.test.ts):
 * reads appended shuffled in batches with seals between (sealed shards in several arenas and a live tail),
 * and a request body's match options.
 */
import fc from 'fast-check';
import type { Engine } from '../../src/engine/index.js';
import type { Read, StoredRead } from '../../src/model/read.js';

/** `reads` shuffled by `r` (so heavy plates land in every shard), appended 150 at a time, sealed every third batch but the last ~200 reads. */
export async function appendShuffled(engine: Engine, tenant: string, reads: Read[], r: () => number): Promise<StoredRead[]> {
  for (let i = reads.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [reads[i], reads[j]] = [reads[j]!, reads[i]!];
  }
  const out: StoredRead[] = [];
  for (let i = 0, b = 0; i < reads.length; i += 150, b++) {
    out.push(...(await engine.append(tenant, reads.slice(i, i + 150))).stored);
    if (b % 3 === 2 && i + 150 < reads.length - 200) await engine.seal(tenant);
  }
  return out;
}

/** A body's match options: the default (exact), or fuzzy k = 0–2 with or without transpositions; OCR or not. */
export const fuzzyMatchArb = fc.oneof(
  fc.constant({}),
  fc.record({ match: fc.constant('fuzzy'), maxEdits: fc.integer({ min: 0, max: 2 }), transpositions: fc.boolean() }),
).chain((m) => fc.boolean().map((ocr) => (ocr ? { ...m, ocr } : m)));
