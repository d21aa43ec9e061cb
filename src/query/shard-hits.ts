/**
 * The hits of one shard's rows, for answers that hold many of them (a hot list's ~100,000). A hit has the
 * same fields, values and key order as src/query/executor.ts `materialise` gives (held equal by
 * test/hotlist-hits.test.ts), built cheaper:
 *
 *   lanes     the shard's lanes and dictionaries are looked up once per shard, not per hit, and the
 *             optional fields are read straight from them (`materialise` makes an `extras` object a row)
 *   shape     the field sets nearly every read has (confidence; region or not; make and color or neither;
 *             no client read id) are object literals with every key in place (src/query/hit-shapes.ts):
 *             one allocation of the final shape. Adding keys one by one to a 7-key literal, as `materialise` does, moves the
 *             object through a shape per key and grows a separate property store twice; the rare sets
 *             still take that road, in the same key order
 *   plate     given by the caller (for an exact, non-OCR entry it is the entry itself); else decoded
 *             from the dictionary slot once per run of hits of the same plate
 *   id        src/store/ids.ts readIdOf, one flat string
 *   numbers   the common shapes' number fields are tagged, so a hit's confidence is the shared box of its
 *             value, not a heap number of its own (src/query/hit-shapes.ts)
 *   fields    a hot list's kept rows come with their fields read by their task on a worker (`hitOf`),
 *             so only the client read id lane is read here (a reader that reads nothing for a shard
 *             without one); a search's rows are read from the lanes (`hit`)
 *
 * Measured on 83,000 hits in a loop (load ~12 on 2 cores): the literal shapes with the flat id took
 * 65–210 ms where the `materialise` way took 280–560 ms.
 */
import { kCoordScale } from '../core/segment.js';
import type { Hit } from '../model/query.js';
import { readIdOf } from '../store/ids.js';
import { hitPlain, hitWithAll, hitWithRegion, hitWithVehicle, sharedConfidence } from './hit-shapes.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { kKeptCodes, kKeptPlate, type HotlistTaskResult, type KeptFields } from './hotlist-task.js';

export class ShardHits {
  private readonly shard: LoadedShard;
  private readonly tenant: string;
  private readonly ordinal: number;
  private readonly lanes: ReturnType<LoadedShard['extraLanes']>;
  private lastPlateCode = -1;
  private lastPlate = '';
  /** `hit`'s ts, seq and confidence, handed to `build` as f64 slots like a task's columns. */
  private readonly one = new Float64Array(3);

  constructor(shard: LoadedShard, tenant: string, ordinal: number) {
    this.shard = shard;
    this.tenant = tenant;
    this.ordinal = ordinal;
    this.lanes = shard.extraLanes();
  }

  /** The plate of row `row`, decoded from its dictionary slot (the last one is kept: an entry's hits share a plate). */
  plateOf(row: number): string {
    return this.plateOfCode(this.shard.plate(row));
  }

  /** The plate of dictionary code `d` (the last one is kept). */
  plateOfCode(d: number): string {
    if (d !== this.lastPlateCode) {
      this.lastPlateCode = d;
      this.lastPlate = this.shard.plateAt(d);
    }
    return this.lastPlate;
  }

  /** The hit of row `row` (its ts and seq as the caller read them), with `plate` as its plate. */
  hit(row: number, ts: number, seq: number, distance: number, plate: string): Hit {
    const s = this.shard, x = this.lanes, d = this.one;
    d[0] = ts;
    d[1] = seq;
    d[2] = x.conf(row) ?? NaN;
    return this.build(row, d, 0, d, 1, distance, plate, s.latE7(row), s.lonE7(row), s.camera(row), s.regionAt(row), d, 2, s.makeAt(row), s.colorAt(row));
  }

  /**
   * The hit of kept row `p` of a hot-list task's result (its ts and seq columns, and the fields its task read:
   * src/query/hotlist-task.ts KeptFields), with `plate` as its plate (undefined: its plate code's).
   */
  hitOf(r: HotlistTaskResult & { fields: KeptFields }, p: number, distance: number, plate: string | undefined): Hit {
    const f = r.fields, c = f.codes, o = p * kKeptCodes;
    return this.build(r.rows[p]!, r.ts, p, r.seqs, p, distance, plate ?? this.plateOfCode(c[o + kKeptPlate]!), c[o]!, c[o + 1]!, c[o + 3]!, c[o + 4]!,
      f.confidence, p, c[o + 5]!, c[o + 6]!);
  }

  /**
   * The hit from its fields (codes of the shard's dictionaries; ts, seq and confidence as slots of f64 columns,
   * NaN = no confidence); the client read id is read from its lane.
   */
  private build(row: number, tsCol: Float64Array, tsAt: number, seqCol: Float64Array, seqAt: number, distance: number, plate: string,
    latE7: number, lonE7: number, cameraCode: number, regionCode: number, confCol: Float64Array, confAt: number, makeCode: number, colorCode: number): Hit {
    const s = this.shard, x = this.lanes;
    // the confidence stays a float (no `number | undefined` value, which is boxed) until a literal holds it
    const ts = tsCol[tsAt]!, conf = confCol[confAt]!, hasConfidence = !Number.isNaN(conf);
    const id = readIdOf(this.ordinal, seqCol[seqAt]!);
    const tenant = this.tenant;
    const lat = latE7 / kCoordScale, lon = lonE7 / kCoordScale;
    const camera = s.cameras[cameraCode]!;
    const readId = x.readId(row);
    if (hasConfidence && readId === undefined && (makeCode === 0) === (colorCode === 0)) {
      // the common shapes, with tagged number fields: the confidence is its value's shared box (src/query/hit-shapes.ts)
      const confidence = sharedConfidence(conf);
      if (regionCode !== 0) {
        const region = s.regions[regionCode]!;
        if (makeCode !== 0) return hitWithAll(id, tenant, plate, ts, lat, lon, camera, region, confidence, x.makes[makeCode]!, x.colors[colorCode]!, distance);
        return hitWithRegion(id, tenant, plate, ts, lat, lon, camera, region, confidence, distance);
      }
      if (makeCode !== 0) return hitWithVehicle(id, tenant, plate, ts, lat, lon, camera, confidence, x.makes[makeCode]!, x.colors[colorCode]!, distance);
      return hitPlain(id, tenant, plate, ts, lat, lon, camera, confidence, distance);
    }
    // the rare field sets: keys added in materialise's order
    const hit = { id, tenant, plate, ts, lat, lon, camera } as Hit;
    if (regionCode !== 0) hit.region = s.regions[regionCode]!;
    if (hasConfidence) hit.confidence = conf;
    if (makeCode !== 0) hit.make = x.makes[makeCode]!;
    if (colorCode !== 0) hit.color = x.colors[colorCode]!;
    if (readId !== undefined) hit.readId = readId;
    hit.distance = distance;
    return hit;
  }
}
