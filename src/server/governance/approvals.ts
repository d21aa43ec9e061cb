/**
 * Approvals of broad requests (API.md v1.1 "Accountability"): four eyes before a search that narrows by
 * neither plate nor place and time.
 *
 *   pending ──(PUT, a supervisor of the tenant who is not the requester)──► approved ──(used once)──► used
 *      │                                                                        │
 *      └──────────────► denied                       24 h after the request ───┴──► expired (on read)
 *
 * Rules chosen where API.md leaves a choice (each the reading that protects the data owner):
 * - an approval is for one exact body: the canonical JSON (RFC 8785, as the audit chain uses) of the
 *   request without `approval` must be equal, byte for byte; and for one route;
 * - it is usable once, by the requester only (an approval is not a token to hand around), within 24 h of
 *   the request (not of the decision, so a stale request cannot be revived by a late approval);
 * - the use is made durable before the request runs: a request that then fails still used it.
 *
 * Stored per tenant in `D/governance/approvals/<tenant>.approvals`, replaced durably on each change of
 * that tenant's approvals, by the server only: the JSON `{"version": 1, "approvals": [...]}` sealed
 * (src/crypto/inline-sealed.ts, kind 4) under a fresh key wrapped under the tenant's approvals KEK
 * `t/<tenant>/approvals`. The request summary holds plates, purpose, case and areas, which API.md keeps
 * off the disk in clear; one file per tenant so `platesearch tenant purge` shreds exactly that tenant's.
 * The single plaintext `D/governance/approvals.json` of the version before is split and sealed at open,
 * then removed. The request itself is kept as its SHA-256 (the comparison) and a bounded summary (for
 * people): a hot-list request may be 64 MiB, and the body holds plates that need not sit in one more file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ApprovalRequired, Conflict, Forbidden, NotFound, UnsupportedFormat } from '../../errors.js';
import { isKeyDestroyed, type DataKeys } from '../../crypto/data-keys.js';
import { openDataDirKeys } from '../../crypto/data-dir-keys.js';
import { openInline, sealInline } from '../../crypto/inline-sealed.js';
import { approvalsEpoch } from '../../crypto/key-names.js';
import { kSealedKindApprovals } from '../../crypto/sealed-file.js';
import { isTenantName } from '../../model/tenant.js';
import { boundValue } from '../audit/bounded-params.js';
import { canonicalJson } from '../audit/record.js';
import { fsyncDirSync, writeFileDurable } from '../tenancy/durable-file.js';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'used' | 'expired';
export const kApprovalStates: readonly ApprovalState[] = ['pending', 'approved', 'denied', 'used', 'expired'];

/** API.md: an approved id may be used within 24 h. */
export const kApprovalTtlMs = 24 * 3600_000;

export interface Approval {
  id: string;
  tenant: string;
  /** The user who asked. */
  requester: string;
  /** The route the request is for, e.g. `/v1/search`. */
  route: string;
  /** SHA-256 (hex) of the canonical JSON of the request body without `approval`. */
  requestSha256: string;
  /** The request, bounded like audit params (the full body is not stored). */
  request: unknown;
  reason: string;
  state: ApprovalState;
  /** Epoch ms. */
  created: number;
  expires: number;
  decidedBy?: string;
  decidedAt?: number;
  note?: string;
  usedAt?: number;
  /** The requestId of the request that used it (its audit record). */
  usedBy?: string;
}

interface ApprovalFile {
  version: number;
  approvals: Approval[];
}

const kApprovalVersion = 1;
const kExt = '.approvals';

/** The tenant's approvals file, relative to the data dir (purge deletes it). */
export function approvalsPath(dataDir: string, tenant: string): string {
  return join(dataDir, 'governance', 'approvals', tenant + kExt);
}

function parseApprovalFile(text: string, file: string): Approval[] {
  const parsed = JSON.parse(text) as ApprovalFile;
  if (parsed?.version !== kApprovalVersion) throw UnsupportedFormat(`${file} has version ${JSON.stringify(parsed?.version)}, expected ${kApprovalVersion}`, { file });
  return parsed.approvals ?? [];
}

/** SHA-256 of the canonical JSON of a request body, `approval` left out. Throws on a value JSON cannot hold. */
export function requestDigest(body: unknown): string {
  let b = body;
  if (b !== null && typeof b === 'object' && !Array.isArray(b) && Object.hasOwn(b, 'approval')) {
    const { approval: _approval, ...rest } = b as Record<string, unknown>;
    b = rest;
  }
  return createHash('sha256').update(canonicalJson(b)).digest('hex');
}

/** The state as of `now` (pending and approved ones expire). */
function stateAt(a: Approval, now: number): ApprovalState {
  if ((a.state === 'pending' || a.state === 'approved') && now >= a.expires) return 'expired';
  return a.state;
}

function view(a: Approval, now: number): Approval {
  return { ...a, state: stateAt(a, now) };
}

export class ApprovalStore {
  private approvals = new Map<string, Approval>();
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string, private readonly keys: DataKeys) {}

  static async open(dataDir: string, keys?: DataKeys): Promise<ApprovalStore> {
    const store = new ApprovalStore(join(dataDir, 'governance', 'approvals'), keys ?? (await openDataDirKeys(dataDir, undefined)).keys);
    let names: string[] = [];
    try {
      names = await readdir(store.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      const tenant = name.slice(0, -kExt.length);
      if (!name.endsWith(kExt) || !isTenantName(tenant)) continue;
      const path = join(store.dir, name);
      let plain: Buffer;
      try {
        plain = await openInline(store.keys, kSealedKindApprovals, path, await readFile(path));
      } catch (err) {
        // the tenant was purged (a copy of the data dir from before): its approvals are shredded, left out
        if (isKeyDestroyed(err)) continue;
        throw err;
      }
      for (const a of parseApprovalFile(plain.toString('utf8'), path)) if (a.tenant === tenant) store.approvals.set(a.id, a);
    }
    await store.migrateLegacy(join(dataDir, 'governance', 'approvals.json'));
    return store;
  }

  /**
   * The plaintext file of the version before encryption at rest: split per tenant, sealed, then removed.
   * A crash before the removal repeats the migration at the next open, with the same content.
   */
  private async migrateLegacy(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const tenants = new Set<string>();
    for (const a of parseApprovalFile(text, 'governance/approvals.json')) {
      this.approvals.set(a.id, a);
      tenants.add(a.tenant);
    }
    for (const t of tenants) await this.writeTenant(t, this.approvals);
    await unlink(path);
    fsyncDirSync(join(path, '..'));
  }

  /** Tenants holding approvals. */
  tenants(): string[] {
    return [...new Set([...this.approvals.values()].map((a) => a.tenant))].sort();
  }

  /** Writes the tenant's approvals again under a fresh key (key rotation: the current KEK generation). */
  reseal(tenant: string): Promise<void> {
    return this.change(tenant, () => {});
  }

  private async writeTenant(tenant: string, all: Map<string, Approval>): Promise<void> {
    if (!isTenantName(tenant)) throw new Error(`not a tenant name: ${JSON.stringify(tenant)}`);
    const file: ApprovalFile = { version: kApprovalVersion, approvals: [...all.values()].filter((a) => a.tenant === tenant) };
    const plain = Buffer.from(JSON.stringify(file) + '\n', 'utf8');
    await writeFileDurable(join(this.dir, tenant + kExt), await sealInline(this.keys, kSealedKindApprovals, approvalsEpoch(tenant), plain));
  }

  /** Files a request; durable when the promise resolves. */
  async request(tenant: string, requester: string, route: string, request: unknown, reason: string, now: number): Promise<Approval> {
    const a: Approval = {
      id: `apr_${randomBytes(12).toString('hex')}`,
      tenant, requester, route,
      requestSha256: requestDigest(request),
      request: boundValue(request).value,
      reason, state: 'pending', created: now, expires: now + kApprovalTtlMs,
    };
    await this.change(tenant, (m) => m.set(a.id, a));
    return view(a, now);
  }

  /**
   * Decides a pending request: only a supervisor of the same tenant who did not ask (403 otherwise);
   * unknown id → 404; already decided or expired → 409.
   */
  async decide(id: string, tenant: string, supervisor: string, decision: 'approved' | 'denied', note: string | null, now: number): Promise<Approval> {
    let out: Approval | undefined;
    const owner = this.approvals.get(id)?.tenant;
    if (owner === undefined) throw NotFound(`no approval ${id}`);
    await this.change(owner, (m) => {
      const a = m.get(id);
      if (!a) throw NotFound(`no approval ${id}`);
      if (a.tenant !== tenant) throw Forbidden('only a supervisor of the requesting tenant may decide this approval');
      if (a.requester === supervisor) throw Forbidden('the requester cannot decide their own approval (four eyes)');
      const state = stateAt(a, now);
      if (state !== 'pending') throw Conflict(`approval ${id} is ${state}, not pending`, { state });
      const next: Approval = { ...a, state: decision, decidedBy: supervisor, decidedAt: now, ...(note === null ? {} : { note }) };
      m.set(id, next);
      out = next;
    });
    return view(out!, now);
  }

  /**
   * Uses an approval for a request about to run: it must be the tenant's, the user's own, approved, not
   * expired, for this route and this exact body. Marks it used durably; throws ApprovalRequired saying
   * why not otherwise.
   */
  async consume(id: unknown, use: { tenant: string; user: string; route: string; body: unknown; requestId: string; now: number }): Promise<Approval> {
    if (typeof id !== 'string') throw ApprovalRequired('approval must be the id of an approved approval', { field: 'approval' });
    let digest: string;
    try {
      digest = requestDigest(use.body);
    } catch {
      throw ApprovalRequired('this request cannot be matched to an approval');
    }
    let out: Approval | undefined;
    await this.change(use.tenant, (m) => {
      const a = m.get(id);
      if (!a || a.tenant !== use.tenant) throw ApprovalRequired(`no approval ${id} in this tenant`, { approval: id });
      if (a.requester !== use.user) throw ApprovalRequired(`approval ${id} was requested by another user`, { approval: id });
      const state = stateAt(a, use.now);
      if (state !== 'approved') throw ApprovalRequired(`approval ${id} is ${state}`, { approval: id, state });
      if (a.route !== use.route) throw ApprovalRequired(`approval ${id} is for ${a.route}, not ${use.route}`, { approval: id });
      if (a.requestSha256 !== digest) throw ApprovalRequired(`approval ${id} is for another request body (it must be the approved body exactly)`, { approval: id });
      const next: Approval = { ...a, state: 'used', usedAt: use.now, usedBy: use.requestId };
      m.set(id, next);
      out = next;
    });
    return out!;
  }

  get(id: string, now: number): Approval | undefined {
    const a = this.approvals.get(id);
    return a && view(a, now);
  }

  /** The tenant's approvals (optionally one state, optionally one requester's), newest first. */
  list(tenant: string, now: number, filter: { state?: ApprovalState; requester?: string } = {}): Approval[] {
    const out: Approval[] = [];
    for (const a of this.approvals.values()) {
      if (a.tenant !== tenant) continue;
      if (filter.requester !== undefined && a.requester !== filter.requester) continue;
      const v = view(a, now);
      if (filter.state !== undefined && v.state !== filter.state) continue;
      out.push(v);
    }
    return out.sort((x, y) => y.created - x.created || (x.id < y.id ? -1 : 1));
  }

  /**
   * Applies `fn` to a copy of the map, writes `tenant`'s file durably, then adopts it; serialised. `fn`
   * changes approvals of `tenant` only (the one file written).
   */
  private change(tenant: string, fn: (m: Map<string, Approval>) => void): Promise<void> {
    const run = async () => {
      const next = new Map(this.approvals);
      fn(next);
      await this.writeTenant(tenant, next);
      this.approvals = next;
    };
    const p = this.writes.then(run, run);
    this.writes = p.catch(() => {});
    return p;
  }
}
