/**
 * The hot-list and alert subsystem of one server: the hot-list store, the alert log, the stream hub,
 * the ingest hook that raises alerts, the look-back search, and the retention sweep of alert logs.
 * One per server (tests run several servers in one process), found from the server's services.
 */
import type { DataKeys } from '../crypto/data-keys.js';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { HotlistQuery, PlateMatch, TenantScope } from '../model/query.js';
import type { StoredRead } from '../model/read.js';
import { hasWildcard } from '../model/plate.js';
import { kMaxLimit } from '../query/parse.js';
import { HotlistStore, type LoadedHotlist } from '../hotlist/store.js';
import type { AlertDraft } from './alert.js';
import { AckLog } from './ack-log.js';
import { AlertHub } from './hub.js';
import { AlertLog, type LoggedAlert } from './log.js';
import { raiseForBatch } from './raise.js';

// how often alert logs are swept for alerts whose reads are past retention (API.md: gone within 60 s)
const kSweepMs = 20_000;
const kDayMs = 86_400_000;

export interface AlertSystemDeps {
  dataDir: string;
  engine: Pick<Engine, 'searchHotlist' | 'onShred'>;
  scopesFor(tenant: string, now: number): TenantScope[];
  retentionCutoff(tenant: string, now: number): number;
  log: Logger;
  /** The data dir's keys (default: the default key store beside it). */
  keys?: DataKeys;
}

export interface LookbackResult {
  days: number;
  /** Alerts raised (one per read × matching entry). */
  alerts: number;
  /** Some entry had more hits than the per-entry cap (kMaxLimit), so not every historical hit was raised. */
  truncated: boolean;
  tenantsTouched: string[];
}

export class AlertSystem {
  readonly hub = new AlertHub();
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly deps: AlertSystemDeps, readonly hotlists: HotlistStore, readonly alerts: AlertLog,
    /** Dispatchers' acknowledgements of alerts (src/alerts/ack-log.ts). */
    readonly acks: AckLog,
  ) {}

  static async open(deps: AlertSystemDeps): Promise<AlertSystem> {
    const hotlists = await HotlistStore.open(deps.dataDir, deps.keys);
    for (const f of hotlists.failures) deps.log.error(f, 'hot list could not be loaded');
    const system = new AlertSystem(deps, hotlists, await AlertLog.open(deps.dataDir, deps.keys), await AckLog.open(deps.dataDir, deps.keys));
    // retention moved a day's retained reads to a new key generation: alerts of that day move too, before the old one is destroyed
    deps.engine.onShred?.(async () => {
      for (const tenant of await system.alerts.tenants()) await system.alerts.compact(tenant, () => true, { force: true });
    });
    system.sweepTimer = setInterval(() => void system.sweep(), kSweepMs);
    system.sweepTimer.unref();
    return system;
  }

  /**
   * The ingest hook: matches a batch of `owner`'s freshly stored reads against every hot list whose tenant
   * may see them, appends the alerts durably, and wakes those tenants' streams. Resolves with the number
   * of alerts raised. Never throws (the reads are durable whatever happens here); failures are logged.
   */
  onIngest(owner: string, reads: readonly StoredRead[], now = Date.now()): Promise<number> {
    return this.raiseMatches(owner, reads, now, false);
  }

  /**
   * A retried ingest (reads whose readId was already stored, with the stored ids): raises the alerts they
   * should have raised the first time and did not (a crash or a disk error between the WAL and the alert
   * log), and no alert twice. Never throws, like onIngest.
   */
  onRetried(owner: string, reads: readonly StoredRead[], now = Date.now()): Promise<number> {
    return this.raiseMatches(owner, reads, now, true);
  }

  private async raiseMatches(owner: string, reads: readonly StoredRead[], now: number, onlyMissing: boolean): Promise<number> {
    if (this.closed || reads.length === 0) return 0;
    try {
      const byTenant = raiseForBatch(owner, reads, this.hotlists.tenants(), (t) => this.hotlists.listsOf(t), this.deps.scopesFor, now);
      let raised = 0;
      await Promise.all([...byTenant].map(async ([tenant, drafts]) => {
        const raise = onlyMissing ? await this.alerts.missing(tenant, drafts) : drafts;
        await this.raise(tenant, raise, now);
        raised += raise.length;
      }));
      return raised;
    } catch (err) {
      this.deps.log.error({ err, tenant: owner }, `hot-list matching on ${onlyMissing ? 'a retried ' : ''}ingest failed`);
      return 0;
    }
  }

  /** Appends alerts for `tenant` durably and wakes its streams. */
  async raise(tenant: string, drafts: readonly AlertDraft[], now = Date.now()): Promise<LoggedAlert[]> {
    if (drafts.length === 0) return [];
    const logged = await this.alerts.append(tenant, drafts, now);
    this.hub.notify(tenant);
    return logged;
  }

  /**
   * "Historical hits": searches the last `days` days of every read `tenant` may see for the entries of
   * `loaded` (unexpired ones), through the engine's hot-list search, and raises one alert per (read, entry),
   * flagged `historical`.
   */
  async lookback(tenant: string, loaded: LoadedHotlist, days: number, now: number, signal?: AbortSignal): Promise<LookbackResult> {
    const { list } = loaded;
    const entries: PlateMatch[] = [];
    const index = new Map<string, number>();
    for (let i = 0; i < list.plates.length; i++) {
      if (list.expires && now >= list.expires[i]!) continue;
      const pattern = list.plates[i]!;
      const wild = hasWildcard(pattern);
      const fuzzy = !wild && list.mode === 'fuzzy';
      entries.push({
        pattern, mode: wild ? 'wildcard' : list.mode, maxEdits: fuzzy ? list.maxEdits : 0, ocr: list.ocr,
        transpositions: fuzzy && list.transpositions,
      });
      index.set(pattern, i);
    }
    const result: LookbackResult = { days, alerts: 0, truncated: false, tenantsTouched: [] };
    if (entries.length === 0) return result;
    const scopes = this.deps.scopesFor(tenant, now);
    const query: HotlistQuery = { entries, filter: { from: now - days * kDayMs }, limitPerPlate: kMaxLimit };
    const found = await this.deps.engine.searchHotlist(scopes, query, signal);
    const drafts: AlertDraft[] = [];
    const touched = new Set<string>();
    for (const m of found.matches) {
      const e = index.get(m.entry);
      if (e === undefined) continue;
      if (m.truncated) result.truncated = true;
      for (const hit of m.hits) {
        const { distance, ...read } = hit;
        touched.add(read.tenant);
        const draft: AlertDraft = { hotlist: list.name, entry: list.plates[e]!, note: list.notes[e]!, distance, historical: true, read };
        const priority = list.priorities?.[e];
        if (priority !== undefined) draft.priority = priority;
        drafts.push(draft);
      }
    }
    // oldest first, so the stream tells the story in order
    drafts.sort((a, b) => a.read.ts - b.read.ts || (a.read.id < b.read.id ? -1 : a.read.id > b.read.id ? 1 : 0));
    await this.raise(tenant, drafts, now);
    result.alerts = drafts.length;
    result.tenantsTouched = [...touched].sort();
    return result;
  }

  /** Drops alerts whose reads are past their owner's retention from every alert log. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.closed) return 0;
    let dropped = 0;
    try {
      for (const tenant of await this.alerts.tenants()) {
        const cutoffs = new Map<string, number>();
        const cutoff = (t: string): number => {
          let c = cutoffs.get(t);
          if (c === undefined) cutoffs.set(t, (c = this.deps.retentionCutoff(t, now)));
          return c;
        };
        const gone = await this.alerts.compact(tenant, (readTenant, readTs) => readTs >= cutoff(readTenant));
        dropped += gone;
        // an ack goes with its alert (checked on every sweep: a crash may have come between the two files);
        // a damaged ack file must not stop the alert logs of the tenants after it from being swept
        try {
          if (gone > 0 || (await this.acks.count(tenant)) > 0) {
            const kept = new Set<number>();
            for (const id of await this.acks.ids(tenant)) if (await this.alerts.has(tenant, id)) kept.add(id);
            await this.acks.compact(tenant, (id) => kept.has(id));
          }
        } catch (err) {
          this.deps.log.warn({ err, tenant }, 'alert acknowledgement sweep failed');
        }
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'alert log sweep failed');
    }
    return dropped;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.alerts.close();
    await this.acks.close();
  }
}
