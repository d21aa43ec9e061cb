/**
 * Export of one tenant's retained reads, ordered by ts then id, streamed a UTC day at a time (shards
 * are per day, so memory stays bounded by one day's matching rows).
 */
import type { ReadFilter } from '../model/query.js';
import type { StoredRead } from '../model/read.js';
import { dayOf, kDayMs } from '../store/shard-format.js';
import type { TenantStore } from '../store/tenant-store.js';
import { materialise, scanLive, scanShard, type Candidate } from './executor.js';
import { prepareFilter } from './filter-plan.js';

export async function* exportTenant(store: TenantStore, minTs: number, filter: ReadFilter): AsyncIterable<StoredRead> {
  const prepared = prepareFilter(filter, minTs);
  if (prepared.empty) return;
  const shards = store.shards.filter((s) => s.meta.maxTs >= prepared.lo && s.meta.minTs < prepared.hi);
  // the live rows as of now (a snapshot of the columns, pinned: appends, seals and retention go on meanwhile)
  const view = store.live.view();
  const live = { kind: 'live' as const, tenant: store.tenant, ordinal: store.ordinal, minTs, view };
  for (const s of shards) s.pin();
  view.pin();
  try {
    const days = new Set<number>(shards.map((s) => s.meta.day));
    for (let g = 0; g < view.length; g++) {
      const t = view.ts(g);
      if (t >= prepared.lo && t < prepared.hi) days.add(dayOf(t));
    }
    for (const day of [...days].sort((a, b) => a - b)) {
      const found: Candidate[] = [];
      const sink = (c: Candidate) => found.push(c);
      for (const s of shards) {
        if (s.meta.day === day) scanShard({ kind: 'shard', tenant: store.tenant, ordinal: store.ordinal, minTs, shard: s }, undefined, undefined, filter, sink, prepared);
      }
      // the day's live rows: the window cut to the day
      const dayPrepared = { ...prepared, lo: Math.max(prepared.lo, day * kDayMs), hi: Math.min(prepared.hi, (day + 1) * kDayMs) };
      scanLive(live, undefined, filter, sink, dayPrepared);
      found.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      for (const c of found) {
        const { distance: _d, ...read } = materialise(c);
        yield read;
      }
    }
  } finally {
    for (const s of shards) s.unpin();
    view.unpin();
  }
}
