/**
 * Skew for issue 12's "busy plates" rows: the generator gives every vehicle a handful of reads (10 per
 * vehicle on average), but real data has plates read tens of thousands of times (a shuttle bus past its
 * depot camera, a car parked in front of one, a fleet plate). This wraps the generated reads and turns a
 * share of the busiest tenant's reads into reads of a few such heavy plates.
 *
 * Each heavy plate lives at one camera: its reads take the camera and place of its first one, so the
 * analytics rows (cloned plates: two far-apart reads in a short time) do not see teleporting plates.
 * The rate is chosen so each heavy plate gets about `kReadsPerHeavyPlate` reads at any scale (a 200k smoke
 * run caps it at a fifth of the tenant's reads). Relabelled reads keep their time; they are marked
 * `heavy` so the data sample leaves them out of its reservoirs (the other hot lists stay as they were).
 */
import type { SourceRead } from './engine-peer.js';
import { BenchPrng } from './prng.js';

/** Heavy plates per run: made up, in the shape of the generator's plates, fixed so runs compare. */
export const kHeavyPlates = ['7HVY101', '7HVY202', '7HVY303', '7HVY404', '7HVY505'];
/** Target reads per heavy plate over the whole data set (all time): ≥ 10,000 as the issue asks. */
const kReadsPerHeavyPlate = 12_500;
/** At most this share of the tenant's reads is relabelled. */
const kMaxShare = 0.2;

/** The busiest tenant's expected share of reads: the generator sizes tenants 1, 1/2, 1/3, … (geography.ts). */
function firstTenantShare(tenants: number): number {
  let sum = 0;
  for (let t = 0; t < tenants; t++) sum += 1 / (t + 1);
  return 1 / sum;
}

export interface HeavyPlatesOptions {
  reads: number;
  seed: number;
  /** The tenant whose reads are relabelled (the busiest: the generator's first). */
  tenant: string;
  tenants: number;
}

/** Reads of each heavy plate written so far (for the query set and the report). */
export type HeavyCounts = Map<string, number>;

export function* withHeavyPlates(reads: Iterable<SourceRead>, o: HeavyPlatesOptions, counts: HeavyCounts): Generator<SourceRead> {
  const rng = new BenchPrng(o.seed ^ 0x4eaf);
  const expected = o.reads * firstTenantShare(o.tenants);
  const rate = Math.min(kMaxShare, (kHeavyPlates.length * kReadsPerHeavyPlate) / Math.max(1, expected));
  const home = new Map<string, { camera: string; lat: number; lon: number }>();
  for (const g of reads) {
    if (g.tenant !== o.tenant || rng.u32() / 4294967296 >= rate) {
      yield g;
      continue;
    }
    const plate = kHeavyPlates[rng.below(kHeavyPlates.length)]!;
    let at = home.get(plate);
    if (!at) home.set(plate, (at = { camera: g.read.camera, lat: g.read.lat, lon: g.read.lon }));
    const read = { ...g.read, plate, camera: at.camera, lat: at.lat, lon: at.lon };
    delete read.make; // the vehicle's labels were another vehicle's
    delete read.color;
    delete read.region;
    counts.set(plate, (counts.get(plate) ?? 0) + 1);
    yield { tenant: g.tenant, read, vehicle: -1, heavy: true };
  }
}
