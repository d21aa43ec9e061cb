/**
 * Crypto-shredding by retention (API.md, encryption at rest): within the deletion bound, no key that
 * decrypts an expired read exists any more, so an older copy of the data dir, opened with the same key
 * store, yields none of them.
 *
 *   days wholly before the cutoff's day   every generation of their KEK is destroyed (their files are
 *                                          deleted by the drop; copies elsewhere stay ciphertext)
 *   the cutoff's day                        when it holds reads older than the cutoff: a new KEK generation
 *                                          first (prepareDayShred), the drop rewrites the day's retained
 *                                          reads under it (WAL survivors, straddling shards), the day's
 *                                          untouched shards are rewrapped in the manifest, the live log is
 *                                          rewritten if it still holds the day under the old generation,
 *                                          listeners (the alert logs) rewrite theirs; then every older
 *                                          generation is destroyed (finishDayShred)
 *
 * In an older copy the retained reads of the cutoff's day are lost with the expired ones (they shared a
 * key there); the data dir itself keeps them. That is the price of day epochs, and it errs on the side of
 * the data owner. Separate functions so that legal holds (which keep held reads past retention) can choose
 * the days they shred.
 */
import { dayEpoch, dayOfEpoch, splitKekName, tenantDayPrefix } from './key-names.js';
import { wrappedFromJson, wrappedToJson } from './data-keys.js';
import type { TenantStore } from '../store/tenant-store.js';
import { dayOf } from '../store/shard-format.js';

export interface ShredPlan {
  tenant: string;
  cutoff: number;
  cutDay: number;
  /** The cutoff's day got a new KEK generation: its retained data must move under it before the old ones go. */
  bumped: boolean;
}

/** Whether the store holds reads of the cutoff's day older than the cutoff (live or sealed). */
export function cutDayHasExpired(store: TenantStore, cutoff: number): boolean {
  const cutDay = dayOf(cutoff);
  const live = store.live.view();
  return live.some((g) => {
    const t = live.ts(g);
    return t < cutoff && dayOf(t) === cutDay;
  })
    || store.shards.some((s) => s.meta.day === cutDay && s.meta.minTs < cutoff);
}

/** Before a retention drop: a new KEK generation for the cutoff's day when it holds expired reads. */
export async function prepareDayShred(store: TenantStore, cutoff: number): Promise<ShredPlan> {
  const cutDay = dayOf(cutoff);
  const bumped = cutDayHasExpired(store, cutoff);
  if (bumped) await store.keys.bump(dayEpoch(store.tenant, cutDay));
  return { tenant: store.tenant, cutoff, cutDay, bumped };
}

/** Whether the live log holds rows of `day` (written under the day's older generation before a bump). */
export function liveHoldsDay(store: TenantStore, day: number): boolean {
  const live = store.live.view();
  return live.some((g) => dayOf(live.ts(g)) === day);
}

/**
 * After the drop: rewraps the manifest keys of the cutoff day's shards under its current generation (the
 * files are not rewritten: their rows are all retained). Returns the number of keys rewrapped.
 */
export async function rewrapDayShards(store: TenantStore, day: number): Promise<number> {
  const epoch = dayEpoch(store.tenant, day);
  const current = await store.keys.currentKek(epoch);
  let n = 0;
  await store.withExclusive(async () => {
    const stale = store.manifest.shards.filter((e) => e.day === day && e.key && e.key.kek !== current);
    if (stale.length === 0) return;
    for (const e of stale) e.key = wrappedToJson(await store.keys.rewrap(wrappedFromJson(e.key!), epoch));
    await store.saveManifest({ ...store.manifest, shards: [...store.manifest.shards] });
    n = stale.length;
  });
  return n;
}

/**
 * The KEKs to destroy for `cutoff`: every generation of days before the cutoff's day, and the cutoff day's
 * older generations when it was bumped. `keepDay` lets a caller keep days (legal holds).
 */
export async function expiredKeks(store: TenantStore, plan: ShredPlan, keepDay: (day: number) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const current = plan.bumped ? await store.keys.currentKek(dayEpoch(store.tenant, plan.cutDay)) : undefined;
  for (const name of await store.keys.list(tenantDayPrefix(store.tenant))) {
    const s = splitKekName(name);
    const day = s ? dayOfEpoch(s.epoch) : undefined;
    if (day === undefined || keepDay(day)) continue;
    if (day < plan.cutDay) out.push(name);
    else if (day === plan.cutDay && plan.bumped && name !== current) out.push(name);
  }
  return out;
}
