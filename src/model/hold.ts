/**
 * Legal holds (API.md v1.1 "Accountability"): a tenant's order to keep some of its reads past retention for
 * one case. A hold reaches the reads whose plate is in `plates` (when given) and whose `ts` is in
 * [`from`, `to`) (each bound when given); a hold with neither reaches every read of the tenant.
 *
 * Two consumers, one definition (`holdReaches`):
 * - retention on disk keeps every read that any active hold of its tenant reaches (`HeldReads`, handed
 *   down to the store and the seal worker, so it is plain data);
 * - past retention, a held read is returned only to its own tenant's searches stating the hold's `case`
 *   (src/query/held-search.ts).
 */

/** One hold as stored and answered (times are epoch ms). */
export interface Hold {
  id: string;
  case: string;
  reason: string;
  /** Normalised plates, duplicates merged, in order of first appearance; absent = every plate. */
  plates?: string[];
  /** Inclusive; absent = unbounded. */
  from?: number;
  /** Exclusive; absent = unbounded. */
  to?: number;
  /** When the hold was first placed, and by whom; when and by whom it was last replaced. */
  created: number;
  createdBy: string;
  updated: number;
  updatedBy: string;
}

/** The reach of one hold: which reads it keeps. */
export interface HoldReach {
  plates?: readonly string[];
  from?: number;
  to?: number;
}

/**
 * What retention must keep of one tenant: the reach of each of its active holds. `revision` changes
 * whenever the tenant's holds change, so a sweep may remember "this shard is wholly held" per revision.
 */
export interface HeldReads {
  revision: string;
  reaches: HoldReach[];
}

/** A hold id: 1–64 of `A–Z a–z 0–9 . _ -`, starting with a letter or digit (it is a URL segment). */
export function isHoldId(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s) && !s.includes('..');
}

/** Whether a hold's window overlaps [minTs, maxTs] (inclusive, as shard metadata states it). */
export function reachOverlaps(r: HoldReach, minTs: number, maxTs: number): boolean {
  return (r.from === undefined || r.from <= maxTs) && (r.to === undefined || r.to > minTs);
}

/** The definition: does the hold reach the read (`plate` normalised, `ts` epoch ms)? */
export function holdReaches(r: HoldReach, plate: string, ts: number): boolean {
  if (r.from !== undefined && ts < r.from) return false;
  if (r.to !== undefined && ts >= r.to) return false;
  return r.plates === undefined || r.plates.includes(plate);
}

/**
 * `holdReaches` over several holds, compiled: plate lists become sets (holds of thousands of plates are
 * tested against every expired row of a sweep). Equal to `reaches.some((r) => holdReaches(r, plate, ts))`.
 */
export function compileHeld(reaches: readonly HoldReach[]): (plate: string, ts: number) => boolean {
  const compiled = reaches.map((r) => ({
    from: r.from ?? -Infinity,
    to: r.to ?? Infinity,
    plates: r.plates === undefined ? undefined : new Set(r.plates),
  }));
  return (plate, ts) => {
    for (const c of compiled) {
      if (ts < c.from || ts >= c.to) continue;
      if (c.plates === undefined || c.plates.has(plate)) return true;
    }
    return false;
  };
}
