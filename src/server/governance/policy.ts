/**
 * A tenant's oversight policy (API.md v1.1 "Accountability"): the broad-search rule, the timezone its
 * audit insights count office hours in, and whether it publishes transparency counts.
 *
 * Stored in `D/governance/policies.json`, replaced durably (temp + fsync + rename) on each change, by the
 * server only (it is the one writer of governance state; no CLI command changes it):
 *
 * ```json
 * { "version": 1,
 *   "tenants": { "pd-a": { "broad": { "maxAreaKm2": 50, "maxDays": 7, "requireApproval": true },
 *                          "timezone": "America/Los_Angeles", "transparency": false, "updated": 1767225600000 } } }
 * ```
 *
 * A tenant that never set one has kDefaultPolicy: the rule is measured (previews say `broad`) but not
 * enforced, insights count in UTC, nothing is published.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInput, UnsupportedFormat } from '../../errors.js';
import { writeFileDurable } from '../tenancy/durable-file.js';

export interface BroadPolicy {
  /** A request over more than this area (km²) is broad, unless it narrows by plate. */
  maxAreaKm2: number;
  /** A request over a longer window than this (days) is broad, unless it narrows by plate. */
  maxDays: number;
  /** Broad requests need an approved approval (`"approval": id`), else 403 PS_APPROVAL_REQUIRED. */
  requireApproval: boolean;
}

export interface Policy {
  broad: BroadPolicy;
  /** IANA zone of the tenant's office hours (insights' off-hours: 22:00–06:00 there). */
  timezone: string;
  /** Publish the counts of GET /v1/transparency?tenant=T. */
  transparency: boolean;
}

export interface StoredPolicy extends Policy {
  /** Epoch ms of the last change; absent for the default. */
  updated?: number;
}

/**
 * Judgement calls for a tenant that has not chosen: 50 km² is a district of a city (a 4 km radius), 7 days
 * a week of movements; measured, not enforced, until the agency decides.
 */
export const kDefaultPolicy: Readonly<Policy> = Object.freeze({
  broad: Object.freeze({ maxAreaKm2: 50, maxDays: 7, requireApproval: false }),
  timezone: 'UTC',
  transparency: false,
});

const kPolicyVersion = 1;
// bounds that keep the rule meaningful: a rule of 0 km² would call every search broad
const kMaxAreaKm2 = 600_000_000; // more than the Earth's surface (5.1e8)
const kMaxDays = 36_600;

/** Whether `tz` is an IANA zone this runtime knows (Intl rejects unknown ones with a RangeError). */
export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function positive(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw BadInput(`${field} must be a number in (0, ${max}]`, { field });
  }
  return v;
}

/**
 * The body of `PUT /v1/policy`: the whole policy, replacing the stored one. Omitted fields take their
 * defaults (a PUT states the policy, it does not patch it); unknown fields are a 400 naming the field.
 */
export function parsePolicy(body: unknown): Policy {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw BadInput('body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['broad', 'timezone', 'transparency'].includes(k)) throw BadInput(`unknown field ${JSON.stringify(k)}`, { field: k });
  const broad = { ...kDefaultPolicy.broad };
  if (b.broad !== undefined) {
    if (b.broad === null || typeof b.broad !== 'object' || Array.isArray(b.broad)) throw BadInput('broad must be an object', { field: 'broad' });
    const r = b.broad as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (!['maxAreaKm2', 'maxDays', 'requireApproval'].includes(k)) throw BadInput(`unknown field ${JSON.stringify(`broad.${k}`)}`, { field: `broad.${k}` });
    }
    if (r.maxAreaKm2 !== undefined) broad.maxAreaKm2 = positive(r.maxAreaKm2, 'broad.maxAreaKm2', kMaxAreaKm2);
    if (r.maxDays !== undefined) broad.maxDays = positive(r.maxDays, 'broad.maxDays', kMaxDays);
    if (r.requireApproval !== undefined) {
      if (typeof r.requireApproval !== 'boolean') throw BadInput('broad.requireApproval must be a boolean', { field: 'broad.requireApproval' });
      broad.requireApproval = r.requireApproval;
    }
  }
  let timezone = kDefaultPolicy.timezone;
  if (b.timezone !== undefined) {
    if (!isTimeZone(b.timezone)) throw BadInput('timezone must be an IANA time zone name, e.g. "America/Chicago"', { field: 'timezone' });
    // kept as the agency spelled it: Intl's "canonical" form may be a legacy alias (Asia/Kolkata → Asia/Calcutta)
    timezone = b.timezone;
  }
  let transparency = kDefaultPolicy.transparency;
  if (b.transparency !== undefined) {
    if (typeof b.transparency !== 'boolean') throw BadInput('transparency must be a boolean', { field: 'transparency' });
    transparency = b.transparency;
  }
  return { broad, timezone, transparency };
}

interface PolicyFile {
  version: number;
  tenants: Record<string, StoredPolicy>;
}

export class PolicyStore {
  private tenants = new Map<string, StoredPolicy>();
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async open(dataDir: string): Promise<PolicyStore> {
    const store = new PolicyStore(join(dataDir, 'governance', 'policies.json'));
    let text: string | undefined;
    try {
      text = await readFile(store.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const file = JSON.parse(text) as PolicyFile;
      if (file?.version !== kPolicyVersion) throw UnsupportedFormat(`governance/policies.json has version ${JSON.stringify(file?.version)}, expected ${kPolicyVersion}`);
      for (const [t, p] of Object.entries(file.tenants ?? {})) store.tenants.set(t, p);
    }
    return store;
  }

  /**
   * The tenant's policy (the default when it never set one). Read-only: the default is the frozen
   * kDefaultPolicy itself, not a copy (every search asks for it; a structuredClone per request cost more
   * than the broad rule it feeds).
   */
  get(tenant: string): Readonly<StoredPolicy> {
    return this.tenants.get(tenant) ?? (kDefaultPolicy as StoredPolicy);
  }

  /** Replaces the tenant's policy; durable when the promise resolves. */
  async set(tenant: string, policy: Policy, now: number): Promise<StoredPolicy> {
    const stored: StoredPolicy = { ...structuredClone(policy), updated: now };
    const run = async () => {
      const next = new Map(this.tenants);
      next.set(tenant, stored);
      const file: PolicyFile = { version: kPolicyVersion, tenants: Object.fromEntries([...next].sort(([a], [b]) => (a < b ? -1 : 1))) };
      await writeFileDurable(this.path, JSON.stringify(file, null, 1) + '\n');
      this.tenants = next;
    };
    const p = this.writes.then(run, run);
    this.writes = p.catch(() => {});
    await p;
    return stored;
  }
}
