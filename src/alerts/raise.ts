/**
 * Raising alerts: a batch of stored reads checked against the hot lists of every tenant that may see
 * them, on the ingest path (one synchronous matcher pass per list per batch; no pool task per read).
 *
 * For each tenant T holding lists, the reads of tenant X are checked against T's lists when X is in
 * `scopesFor(T, now)` (X = T, or X has granted T access, unexpired) and the read is within X's retention
 * as T sees it. One alert per (read, matching entry).
 */
import type { StoredRead } from '../model/read.js';
import type { TenantScope } from '../model/query.js';
import type { LoadedHotlist } from '../hotlist/store.js';
import type { AlertDraft } from './alert.js';

/** Who may see whose reads: the Directory's `scopesFor`. */
export type ScopeResolver = (tenant: string, now: number) => TenantScope[];

/** Drafts for `reads` (all owned by one tenant) against `lists` of one subscriber, at `now`. */
export function matchReads(lists: readonly LoadedHotlist[], reads: readonly StoredRead[], plates: readonly string[], now: number, historical = false): AlertDraft[] {
  const drafts: AlertDraft[] = [];
  for (const loaded of lists) {
    const { list, matcher } = loaded;
    matcher.matchBatch(plates, now, (i, e, distance) => {
      const draft: AlertDraft = { hotlist: list.name, entry: list.plates[e]!, note: list.notes[e]!, distance, read: reads[i]! };
      const priority = list.priorities?.[e];
      if (priority !== undefined) draft.priority = priority;
      if (historical) draft.historical = true;
      drafts.push(draft);
    });
  }
  return drafts;
}

/**
 * For a batch of `owner`'s reads: the drafts per subscriber tenant. `listsOf` and `subscribers` are read
 * once, synchronously, so each list is the version current at this instant (atomic replace).
 */
export function raiseForBatch(
  owner: string,
  reads: readonly StoredRead[],
  subscribers: readonly string[],
  listsOf: (tenant: string) => readonly LoadedHotlist[],
  scopesFor: ScopeResolver,
  now: number,
): Map<string, AlertDraft[]> {
  const out = new Map<string, AlertDraft[]>();
  let plates: string[] | undefined;
  for (const tenant of subscribers) {
    const lists = listsOf(tenant);
    if (lists.length === 0) continue;
    // the owner's own lists see its reads within its retention; others only through an active grant
    const scope = scopesFor(tenant, now).find((s) => s.tenant === owner);
    if (!scope && tenant !== owner) continue;
    const minTs = scope?.minTs ?? -Infinity;
    let batch = reads;
    let batchPlates = (plates ??= reads.map((r) => r.plate));
    if (reads.some((r) => r.ts < minTs)) {
      batch = reads.filter((r) => r.ts >= minTs);
      batchPlates = batch.map((r) => r.plate);
    }
    const drafts = matchReads(lists, batch, batchPlates, now);
    if (drafts.length > 0) out.set(tenant, drafts);
  }
  return out;
}
