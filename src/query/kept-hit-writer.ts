/**
 * A hot-list task's kept rows handed to a sink as hits (src/model/hotlist-sink.ts), from the fields the task
 * read on its worker (src/query/hotlist-task.ts KeptFields): the values ShardHits.hitOf builds a hit object
 * of (src/query/shard-hits.ts), passed as they are — no object, id string or boxed coordinate a hit, and no
 * shard lane read. The shard's dictionaries are looked up once per task; the plate is the caller's (an
 * exact entry's pattern) or decoded from its dictionary code, the last one kept (an entry's hits share one).
 */
import type { HitSink } from '../model/hit-sink.js';
import type { LoadedShard } from '../store/shard-loader.js';
import { kKeptCodes, kKeptPlate, type HotlistTaskResult, type KeptFields } from './hotlist-task.js';

export class KeptHitWriter {
  private readonly cameras: readonly string[];
  private readonly regions: readonly string[];
  private readonly makes: readonly string[];
  private readonly colors: readonly string[];
  private lastPlateCode = -1;
  private lastPlate = '';

  constructor(private readonly shard: LoadedShard, private readonly tenant: string, private readonly ordinal: number) {
    const x = shard.extraLanes();
    this.cameras = shard.cameras;
    this.regions = shard.regions;
    this.makes = x.makes;
    this.colors = x.colors;
  }

  /** Kept row `p` of task result `r` to `sink`, with `plate` as its plate (undefined: its plate code's). */
  write(sink: Pick<HitSink, 'read'>, r: HotlistTaskResult & { fields: KeptFields }, p: number, distance: number, plate: string | undefined): void {
    const c = r.fields.codes, o = p * kKeptCodes;
    const region = c[o + 4]!, make = c[o + 5]!, color = c[o + 6]!;
    sink.read(this.tenant, this.ordinal, r.seqs[p]!, plate ?? this.plateOfCode(c[o + kKeptPlate]!), r.ts[p]!, c[o]!, c[o + 1]!,
      this.cameras[c[o + 3]!]!, region !== 0 ? this.regions[region]! : undefined, r.fields.confidence[p]!,
      make !== 0 ? this.makes[make]! : undefined, color !== 0 ? this.colors[color]! : undefined, distance);
  }

  private plateOfCode(d: number): string {
    if (d !== this.lastPlateCode) {
      this.lastPlateCode = d;
      this.lastPlate = this.shard.plateAt(d);
    }
    return this.lastPlate;
  }
}
