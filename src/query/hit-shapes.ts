/**
 * The hit objects ShardHits builds (src/query/shard-hits.ts): their four common shapes, and the numbers
 * their fields share. A hot list's answer is ~316,000 hits at 20M reads (bench:peers "hot list 100k exact");
 * every one lives until the answer is returned, so whatever of a hit is allocated young is copied by the
 * scavenger (twice: into the other semi-space, then into old space) and paged in on promotion: the
 * collector's threads spent more CPU on them than the calling thread spent building them (perf,
 * bench/RESULTS.md "Issue 12: the hit objects' number fields tagged"). Fewer young bytes per hit is what
 * makes that cost fall.
 *
 *   a hit                          where                          young (copied by scavenges)
 *   object      9–12 fields        old space: the literal's site is pretenured
 *   ts, lat, lon  double fields    old space: boxes allocated with the object (one allocation)
 *   confidence  tagged field       shared: one box per value (below), made once
 *   id          16 one-byte chars  new space: V8 pretenures no string                 32 B
 *
 * Why the fields are held the way they are. V8 keeps a field that has only ever held numbers in its "double"
 * representation: the object owns a box (a heap number) that every store writes into. Made by a literal at
 * a pretenured site, the boxes are allocated together with the object, in old space, so the scavenger never
 * sees them. A field that has also held a non-number is "tagged": it holds a pointer, so storing an existing
 * heap number stores the pointer, and storing a fresh double boxes it first, in new space (young), apart
 * from the object. So:
 *
 *   - confidence is tagged: a confidence stored as u16 × 10,000 (src/core/confidence-lane.ts) is one of
 *     10,001 values, each boxed once here, and every hit with that value points at its box (no allocation);
 *     an f64 lane's value that is not one of them is stored as it is.
 *   - ts, lat and lon stay doubles: each hit's own values (bench:peers' generator, like a GPS, puts every
 *     read of a fixed camera a few metres apart; a per-camera box was tried and found nothing to share).
 *     Tagged as well (the first version of this file), each became a young box of its own: at 20M reads
 *     ~11 MB a call more copied by the scavenges than with double fields (bench/RESULTS.md, "Issue 12: a
 *     hit's ts, lat and lon boxed with it again").
 *
 * Each shape's literal is made by its own small function (one allocation site, so V8's pretenuring of
 * long-lived literals applies), and each is called once when this module loads with null as its confidence
 * and doubles as ts, lat and lon: those representations hold for every hit of that shape from then on.
 * Those objects are kept (`kTaggedShapes`): a shape no live object holds is collected, and made again from
 * nothing it would start with a double confidence (seen: the sharing was lost after the engine's first
 * collection).
 *
 * Nothing here changes a value: the same doubles (held equal by test/hotlist-hits.test.ts and the
 * differential tests). If V8 ever held these fields otherwise, hits would cost what they did, no more.
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

// Each shape's confidence made tagged once, and its ts, lat and lon doubles (see the head of this file): a
// double primer, not an integer (a field that held a small integer first moves to double only when a
// fraction comes, through a map deprecation). The objects are kept: a shape lives only while some object of
// it (or of a shape after it) does, and one made again from nothing after a collection would start with a
// double confidence again.
const none = null as unknown as number;
const aDouble = 0.5;
export const kTaggedShapes: readonly Hit[] = [
  hitWithAll('', '', '', aDouble, aDouble, aDouble, '', '', none, '', '', 0),
  hitWithRegion('', '', '', aDouble, aDouble, aDouble, '', '', none, 0),
  hitWithVehicle('', '', '', aDouble, aDouble, aDouble, '', none, '', '', 0),
  hitPlain('', '', '', aDouble, aDouble, aDouble, '', none, 0),
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
