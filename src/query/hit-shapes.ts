/**
 * The hit objects ShardHits builds (src/query/shard-hits.ts): their four common shapes, and the numbers
 * their fields share. A hot list's answer is ~316,000 hits at 20M reads (bench:peers "hot list 100k exact");
 * every one lives until the answer is returned, so its bytes are copied by the scavenger and paged in on
 * promotion: the collector's threads spent more CPU on them than the calling thread spent building them
 * (perf, bench/RESULTS.md "Issue 12: the hit objects' number fields tagged"). Fewer and smaller heap objects per
 * hit is what makes that cost fall.
 *
 *   a hit, before                               a hit, now
 *   object      12 fields         120 B            object      12 fields         120 B
 *   id          16 one-byte chars  32 B            id          16 one-byte chars  32 B
 *   ts, lat, lon  heap numbers     48 B            ts, lat, lon  heap numbers     48 B
 *   confidence  heap number        16 B            confidence  shared: one box per value (below)
 *   ─────────────────────────────────────          ─────────────────────────────────────
 *   6 objects                     216 B            5 objects                     200 B
 *
 * Why a number can be shared only this way: V8 keeps a field that has only ever held numbers in its
 * "double" representation, a box of the object's own (a heap number) written on every store, so two hits
 * can never share their confidence. A field that has also held a non-number is "tagged": it holds a
 * pointer, and storing an existing heap number stores the pointer. So:
 *
 *   - each shape's literal is made by its own small function (one allocation site, so V8's pretenuring of
 *     long-lived literals still applies), and each is called once when this module loads with null in its
 *     number fields: the shape's fields are tagged from then on, for every hit of that shape. Those objects
 *     are kept (`kTaggedShapes`): a shape no live object holds is collected, and made again from nothing it
 *     would start with double fields (seen: the sharing was lost after the engine's first collection);
 *   - a confidence stored as u16 × 10,000 (src/core/confidence-lane.ts) is one of 10,001 values, each boxed
 *     once here; an f64 lane's value that is not one of them is stored as it is.
 *
 * Not shared: ts (nearly every hit's own), lat and lon (bench:peers' generator, like a GPS, puts every read of
 * a fixed camera a few metres apart: a per-camera box was tried and found no repeats to share on that data).
 *
 * Nothing here changes a value: the same doubles (held equal by test/hotlist-hits.test.ts and the
 * differential tests). If V8 ever kept these fields as doubles again, hits would cost what they did, no more.
 */
import { kConfidenceScale } from '../core/confidence-lane.js';
import type { Hit } from '../model/query.js';

// The four shapes of nearly every hit (confidence, no client read id; make and color both or neither; region
// or not), keys in `materialise`'s order (src/query/executor.ts).

export function hitWithAll(id: string, tenant: string, plate: string, ts: number, lat: number, lon: number, camera: string, region: string,
  confidence: number, make: string, color: string, distance: number): Hit {
  return { id, tenant, plate, ts, lat, lon, camera, region, confidence, make, color, distance };
}

export function hitWithRegion(id: string, tenant: string, plate: string, ts: number, lat: number, lon: number, camera: string, region: string,
  confidence: number, distance: number): Hit {
  return { id, tenant, plate, ts, lat, lon, camera, region, confidence, distance };
}

export function hitWithVehicle(id: string, tenant: string, plate: string, ts: number, lat: number, lon: number, camera: string,
  confidence: number, make: string, color: string, distance: number): Hit {
  return { id, tenant, plate, ts, lat, lon, camera, confidence, make, color, distance };
}

export function hitPlain(id: string, tenant: string, plate: string, ts: number, lat: number, lon: number, camera: string,
  confidence: number, distance: number): Hit {
  return { id, tenant, plate, ts, lat, lon, camera, confidence, distance };
}

// Each shape's numeric fields made tagged once (see the head of this file). The objects are kept: a shape lives
// only while some object of it (or of a shape after it) does, and one made again from nothing after a
// collection would start with double fields again.
const none = null as unknown as number;
export const kTaggedShapes: readonly Hit[] = [
  hitWithAll('', '', '', none, none, none, '', '', none, '', '', 0),
  hitWithRegion('', '', '', none, none, none, '', '', none, 0),
  hitWithVehicle('', '', '', none, none, none, '', none, '', '', 0),
  hitPlain('', '', '', none, none, none, '', none, 0),
];

/** A tagged array (its elements are pointers, so a number read from it is the box itself, not a copy). */
function boxes(n: number): number[] {
  return new Array<number>(n).fill(null as unknown as number);
}

/** Every u16 confidence value k / 10,000, boxed once. */
const kConfidences = boxes(kConfidenceScale + 1);
for (let k = 0; k <= kConfidenceScale; k++) kConfidences[k] = k / kConfidenceScale;

/** `confidence` as the shared box of its value when it is k / 10,000 (else itself). */
export function sharedConfidence(confidence: number): number {
  const k = Math.round(confidence * kConfidenceScale);
  if (k >= 0 && k <= kConfidenceScale) {
    const c = kConfidences[k]!;
    if (c === confidence) return c;
  }
  return confidence;
}
