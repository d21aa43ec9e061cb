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

/**
 * Rows of `view` passing `p` (no plate test), ascending: the analytics' row stream (src/query/analytics/
 * row-scan.ts) without a candidate object per row. Blocks outside the window or place are skipped whole.
 */
export function liveRowsPassing(view: LiveView, p: PreparedFilter, tick?: () => void): Uint32Array {
  const test = liveRowTest(view, p);
  if (!test || p.empty) return new Uint32Array(0);
  let out = new Uint32Array(1024);
  let n = 0;
  const blocks = view.cols.blocks;
  for (let b = 0; b < view.blockCount(); b++) {
    const block = blocks[b]!;
    const z = block.zone;
    if (!(z[1]! >= p.lo && z[0]! < p.hi && z[3]! >= p.box[0] && z[2]! <= p.box[1] && z[5]! >= p.box[2] && z[4]! <= p.box[3])) continue;
    const base = b * kLiveBlockRows;
    for (let r = 0, end = view.rowsInBlock(b); r < end; r++) {
      tick?.();
      const g = base + r;
      if (!test(g, block.tsAt(r))) continue;
      if (n === out.length) {
        const grown = new Uint32Array(n * 2);
        grown.set(out);
        out = grown;
      }
      out[n++] = g;
    }
  }
  return out.slice(0, n);
}
