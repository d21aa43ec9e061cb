/**
 * The JS row test over live columns (src/store/live-columns.ts): the reference's predicates, with the
 * label filters turned into byte masks by dictionary code once per query (as shardMasks does for shards).
 * Used by the executor's live scan and by the kernel path for rows reached through plate chains.
 */
import { kCoordScale } from '../core/segment.js';
import { kLiveBlockRows, type LiveView } from '../store/live-columns.js';
import { attributeMask, type PreparedFilter } from './filter-plan.js';

const kMask = kLiveBlockRows - 1;
const kShift = Math.log2(kLiveBlockRows);

function labelMask(values: readonly string[], wanted: Set<string> | null, skipZero: boolean): Uint8Array | null {
  if (!wanted) return null;
  const m = new Uint8Array(values.length);
  for (let i = skipZero ? 1 : 0; i < values.length; i++) if (wanted.has(values[i]!)) m[i] = 1;
  return m;
}

/**
 * The test of row `g` (with time `t`) of `view` under `p`, or null when no row of the view can pass (a
 * listed label it never saw). The plate is not tested here.
 */
export function liveRowTest(view: LiveView, p: PreparedFilter): ((g: number, t: number) => boolean) | null {
  const cols = view.cols;
  const camera = labelMask(cols.cameras.values, p.cameras, false);
  const region = labelMask(cols.regions.values, p.regions, true);
  const make = attributeMask(cols.makes.values, p.makes);
  const color = attributeMask(cols.colors.values, p.colors);
  if ([camera, region, make, color].some((m) => m !== null && !m.includes(1))) return null;
  const geo = p.geo;
  const lo = p.lo, hi = p.hi;
  const blocks = cols.blocks;
  return (g, t) => {
    if (t < lo || t >= hi) return false;
    const b = blocks[g >>> kShift]!;
    const r = g & kMask;
    if (geo && !geo(b.lat[r]! / kCoordScale, b.lon[r]! / kCoordScale)) return false;
    if (camera && !camera[b.camera[r]!]) return false;
    if (region && !region[b.region[r]!]) return false;
    if (make && !make[b.make[r]!]) return false;
    if (color && !color[b.color[r]!]) return false;
    return true;
  };
}
