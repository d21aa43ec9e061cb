/**
 * Audit insights (API.md v1.1 "Accountability", `GET /v1/audit/insights`): the patterns of misuse an
 * auditor looks for, over a tenant's own log, for any `[from, to)` window:
 *
 *   repeatPlates         same user, same plate, ≥ 3 searches
 *   offHours             searches per user between 22:00 and 06:00 in the tenant's timezone
 *   reusedCases          one case number used by ≥ 3 users
 *   boilerplatePurposes  one purpose text used by ≥ 3 users (with its searches)
 *   foreign              other tenants' searches over our data, per tenant
 *
 * What counts (written in docs/governance.md): a *search* is a record whose action is `search`,
 * `search.hotlist` or `analytics.*` (the actions the broad rule governs) and whose outcome is `ok` (it
 * ran). Our users' searches are the records with `actorTenant` = the log's tenant; `foreign` counts those
 * with another `actorTenant` (the copies a partner's search leaves in our log). A search's plates are its
 * `params.plate` and, for hot-list searches recorded in full (≤ 100 entries), each entry, normalised; a
 * hot list recorded as `{count, sha256}` has no plates to count. Purpose and case are compared as stated.
 *
 * Incremental, not a re-read of the log per call: the index below is built once per tenant (a scan of its
 * log, in the background at server start), then kept current by the trail's append listener. Per key it
 * holds the sorted times of its searches, so a window is a binary search per key, and only keys that can
 * qualify are visited: a (user, plate) pair with ≥ 3 searches ever, a case or purpose with ≥ 3 users ever.
 * Off-hours lists are derived per timezone (a changed policy timezone rebuilds them once). Every real time
 * zone's offset is a multiple of 15 minutes, so a local hour is looked up once per 15-minute bucket.
 *
 *   cost of a call ≈ (candidates + users + partner tenants) × log(searches per key)
 *   memory ≈ 8 bytes per search per list it is in (user, pair, case, purpose) + one map entry per key
 */
import { normalisePattern } from '../../model/plate.js';
import type { AuditRecord } from './record.js';
import type { AuditTrail } from './trail.js';

export interface InsightsAnswer {
  repeatPlates: Array<{ user: string; plate: string; searches: number }>;
  offHours: Array<{ user: string; searches: number }>;
  reusedCases: Array<{ case: string; users: number }>;
  boilerplatePurposes: Array<{ purpose: string; users: number; searches: number }>;
  foreign: Array<{ actorTenant: string; searches: number }>;
}

/** Counts of searches in a window, for transparency (no user, plate or case). */
export interface Activity {
  /** Our users' searches that ran. */
  searches: number;
  /** The reads they matched (sum of their `resultCount`). */
  hits: number;
  /** Other tenants' searches whose scope held our data. */
  partnerSearches: number;
}

/** API.md thresholds. */
export const kRepeatSearches = 3;
export const kReuseUsers = 3;
const kOffHoursStart = 22;
const kOffHoursEnd = 6;
// every real zone offset is a multiple of this: a bucket lies within one local hour
const kBucketMs = 15 * 60_000;

export function isSearchAction(action: unknown): boolean {
  return action === 'search' || action === 'search.hotlist' || (typeof action === 'string' && action.startsWith('analytics.'));
}

/** Sorted times (epoch ms), appended mostly in order; optionally a number carried with each time. */
class TimeList {
  private a = new Float64Array(4);
  private v: Float64Array | undefined;
  n = 0;

  constructor(withValues = false) {
    if (withValues) this.v = new Float64Array(4);
  }

  add(t: number, value = 0): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
      if (this.v) {
        const w = new Float64Array(b.length);
        w.set(this.v);
        this.v = w;
      }
    }
    // records arrive in chain order, which is nearly time order (a long search is recorded at its end)
    let i = this.n++;
    while (i > 0 && this.a[i - 1]! > t) {
      this.a[i] = this.a[i - 1]!;
      if (this.v) this.v[i] = this.v[i - 1]!;
      i--;
    }
    this.a[i] = t;
    if (this.v) this.v[i] = value;
  }

  /** Sum of the values carried by the times in [from, to). */
  sumIn(from: number, to: number): number {
    if (!this.v || to <= from) return 0;
    let sum = 0;
    for (let i = this.lowerBound(from), end = this.lowerBound(to); i < end; i++) sum += this.v[i]!;
    return sum;
  }

  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.a[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Times in [from, to). */
  countIn(from: number, to: number): number {
    if (this.n === 0 || to <= from) return 0;
    return this.lowerBound(to) - this.lowerBound(from);
  }

  *all(): Iterable<number> {
    for (let i = 0; i < this.n; i++) yield this.a[i]!;
  }
}

/** Local hour (0–23) of `ts` in `tz`, cached per 15-minute bucket. */
class LocalHours {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(readonly tz: string) {
    this.format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' });
  }
  hour(ts: number): number {
    const bucket = Math.floor(ts / kBucketMs);
    let h = this.cache.get(bucket);
    if (h === undefined) {
      const part = this.format.formatToParts(bucket * kBucketMs).find((p) => p.type === 'hour');
      h = Number(part?.value ?? 0) % 24;
      this.cache.set(bucket, h);
    }
    return h;
  }
  isOff(ts: number): boolean {
    const h = this.hour(ts);
    return h >= kOffHoursStart || h < kOffHoursEnd;
  }
}

function addTo<K>(m: Map<K, TimeList>, k: K, t: number): TimeList {
  let l = m.get(k);
  if (!l) m.set(k, (l = new TimeList()));
  l.add(t);
  return l;
}

/** The plates of a search record (normalised, each once). */
export function platesOf(params: unknown): string[] {
  if (params === null || typeof params !== 'object') return [];
  const p = params as Record<string, unknown>;
  const out = new Set<string>();
  if (typeof p.plate === 'string') out.add(normalisePattern(p.plate));
  if (Array.isArray(p.plates)) {
    for (const e of p.plates) {
      const raw = typeof e === 'string' ? e : e !== null && typeof e === 'object' && typeof (e as { plate?: unknown }).plate === 'string' ? (e as { plate: string }).plate : undefined;
      if (raw !== undefined) out.add(normalisePattern(raw));
    }
  }
  out.delete('');
  return [...out];
}

/** Users of one case or purpose, each with the times of their searches. */
class Usage {
  readonly byUser = new Map<string, TimeList>();
}

class TenantInsights {
  appliedSeq = 0;
  private readonly users = new Map<string, TimeList>();
  private off: { tz: string; hours: LocalHours; lists: Map<string, TimeList> } | undefined;
  /**
   * user → plate → the times that user searched that plate. By user, then plate, not by a joined
   * `user\0plate` key: a hot list's 100 plates then cost 100 lookups of strings already hashed (by platesOf's
   * set), not 100 new strings to build and hash (~1 µs a plate in a loop, on the request's critical path:
   * listeners are told before the append resolves).
   */
  private readonly pairs = new Map<string, Map<string, TimeList | number>>();
  private readonly repeatCandidates = new Map<string, TimeList>();
  private readonly cases = new Map<string, Usage>();
  private readonly purposes = new Map<string, Usage>();
  private readonly foreign = new Map<string, TimeList>();
  /** Our users' searches with their result counts, and partners' searches over our data (transparency). */
  private readonly ownSearches = new TimeList(true);
  private readonly partnerSearches = new TimeList();

  constructor(readonly tenant: string) {}

  apply(r: AuditRecord): void {
    if (r.seq <= this.appliedSeq) return;
    this.appliedSeq = r.seq;
    if (!isSearchAction(r.action) || r.outcome !== 'ok') return;
    const t = Date.parse(r.ts);
    if (!Number.isFinite(t)) return;
    if (r.actorTenant !== this.tenant) {
      if (typeof r.actorTenant === 'string') addTo(this.foreign, r.actorTenant, t);
      this.partnerSearches.add(t);
      return;
    }
    this.ownSearches.add(t, typeof r.resultCount === 'number' && Number.isFinite(r.resultCount) ? r.resultCount : 0);
    const user = String(r.user);
    addTo(this.users, user, t);
    if (this.off && this.off.hours.isOff(t)) addTo(this.off.lists, user, t);
    const plates = platesOf(r.params);
    if (plates.length > 0) {
      let byPlate = this.pairs.get(user);
      if (byPlate === undefined) this.pairs.set(user, (byPlate = new Map()));
      for (const plate of plates) {
        const seen = byPlate.get(plate);
        if (seen === undefined) {
          byPlate.set(plate, t); // most pairs are searched once: a number, not a list
        } else if (typeof seen === 'number') {
          const l = new TimeList();
          l.add(seen);
          l.add(t);
          byPlate.set(plate, l);
        } else {
          seen.add(t);
          if (seen.n === kRepeatSearches) this.repeatCandidates.set(`${user}\u0000${plate}`, seen);
        }
      }
    }
    if (typeof r.case === 'string') addTo(this.usage(this.cases, r.case).byUser, user, t);
    if (typeof r.purpose === 'string') addTo(this.usage(this.purposes, r.purpose).byUser, user, t);
  }

  private usage(m: Map<string, Usage>, key: string): Usage {
    let u = m.get(key);
    if (!u) m.set(key, (u = new Usage()));
    return u;
  }

  private offLists(tz: string): Map<string, TimeList> {
    if (this.off?.tz !== tz) {
      const hours = new LocalHours(tz);
      const lists = new Map<string, TimeList>();
      for (const [user, l] of this.users) for (const t of l.all()) if (hours.isOff(t)) addTo(lists, user, t);
      this.off = { tz, hours, lists };
    }
    return this.off.lists;
  }

  activity(from: number, to: number): Activity {
    return { searches: this.ownSearches.countIn(from, to), hits: this.ownSearches.sumIn(from, to), partnerSearches: this.partnerSearches.countIn(from, to) };
  }

  compute(from: number, to: number, tz: string): InsightsAnswer {
    const byCount = <T>(count: (x: T) => number, key: (x: T) => string) => (a: T, b: T) =>
      count(b) - count(a) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

    const repeatPlates: InsightsAnswer['repeatPlates'] = [];
    for (const [key, l] of this.repeatCandidates) {
      const n = l.countIn(from, to);
      if (n < kRepeatSearches) continue;
      const cut = key.indexOf('\u0000');
      repeatPlates.push({ user: key.slice(0, cut), plate: key.slice(cut + 1), searches: n });
    }
    repeatPlates.sort(byCount((x) => x.searches, (x) => `${x.user}\u0000${x.plate}`));

    const offHours: InsightsAnswer['offHours'] = [];
    for (const [user, l] of this.offLists(tz)) {
      const n = l.countIn(from, to);
      if (n > 0) offHours.push({ user, searches: n });
    }
    offHours.sort(byCount((x) => x.searches, (x) => x.user));

    const reusedCases: InsightsAnswer['reusedCases'] = [];
    for (const [c, u] of this.cases) {
      if (u.byUser.size < kReuseUsers) continue;
      let users = 0;
      for (const l of u.byUser.values()) if (l.countIn(from, to) > 0) users++;
      if (users >= kReuseUsers) reusedCases.push({ case: c, users });
    }
    reusedCases.sort(byCount((x) => x.users, (x) => x.case));

    const boilerplatePurposes: InsightsAnswer['boilerplatePurposes'] = [];
    for (const [purpose, u] of this.purposes) {
      if (u.byUser.size < kReuseUsers) continue;
      let users = 0;
      let searches = 0;
      for (const l of u.byUser.values()) {
        const n = l.countIn(from, to);
        if (n > 0) {
          users++;
          searches += n;
        }
      }
      if (users >= kReuseUsers) boilerplatePurposes.push({ purpose, users, searches });
    }
    boilerplatePurposes.sort(byCount((x) => x.users, (x) => x.purpose));

    const foreign: InsightsAnswer['foreign'] = [];
    for (const [actorTenant, l] of this.foreign) {
      const n = l.countIn(from, to);
      if (n > 0) foreign.push({ actorTenant, searches: n });
    }
    foreign.sort(byCount((x) => x.searches, (x) => x.actorTenant));

    return { repeatPlates, offHours, reusedCases, boilerplatePurposes, foreign };
  }
}

/**
 * The insights of every tenant of a trail. Register it before the trail takes appends of interest; each
 * tenant's index is built on first use (or by `warm`) and kept current from then on.
 */
export class AuditInsights {
  private readonly tenants = new Map<string, TenantInsights>();
  private readonly building = new Map<string, Promise<TenantInsights>>();
  /** Records told while a tenant's index is being built, applied after its scan (by seq, deduplicated). */
  private readonly pending = new Map<string, AuditRecord[]>();

  constructor(private readonly trail: AuditTrail) {
    trail.onAppend((tenant, record) => {
      const ready = this.tenants.get(tenant);
      if (ready) ready.apply(record);
      else if (this.building.has(tenant)) this.pending.get(tenant)!.push(record);
    });
  }

  /** The tenant's index, built from its log on first use. */
  private index(tenant: string): Promise<TenantInsights> {
    const ready = this.tenants.get(tenant);
    if (ready) return Promise.resolve(ready);
    let p = this.building.get(tenant);
    if (!p) {
      this.pending.set(tenant, []);
      p = (async () => {
        const ti = new TenantInsights(tenant);
        for (;;) {
          const page = await this.trail.query(tenant, { after: ti.appliedSeq, limit: 1000 });
          for (const r of page.records) ti.apply(r);
          if (page.next === null) break;
        }
        for (const r of this.pending.get(tenant)!.sort((a, b) => a.seq - b.seq)) ti.apply(r);
        this.pending.delete(tenant);
        this.tenants.set(tenant, ti);
        return ti;
      })().finally(() => this.building.delete(tenant));
      this.building.set(tenant, p);
    }
    return p;
  }

  /** Builds the indexes of `tenants` one after the other (at server start, so the first call is fast). */
  async warm(tenants: readonly string[]): Promise<void> {
    for (const t of tenants) await this.index(t);
  }

  async activity(tenant: string, from: number, to: number): Promise<Activity> {
    return (await this.index(tenant)).activity(from, to);
  }

  async compute(tenant: string, from: number, to: number, tz: string): Promise<InsightsAnswer> {
    return (await this.index(tenant)).compute(from, to, tz);
  }
}
