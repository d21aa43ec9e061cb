/**
 * Audit records of command-line actions (issue 15): every command that changes a data dir, or reads a
 * tenant's data out of it, leaves one record in `audit/_system.jsonl` and one in the named tenant's log,
 * chain-valid, whether or not a server runs on the dir (src/server/audit/inbox.ts says how).
 *
 * The record is written after the action and before the command reports its result, as the server writes
 * a request's record before its answer: a token is printed only once its creation is on record, and an
 * action that failed is recorded as failed. If the record cannot be written the command exits 1.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { DataKeys } from '../crypto/data-keys.js';
import { isPlatesearchError } from '../errors.js';
import { formatTimestamp } from '../model/time.js';
import { isTenantName, kSystemTenant } from '../model/tenant.js';
import { boundParams } from '../server/audit/bounded-params.js';
import { recordFromProcess } from '../server/audit/inbox.js';
import { outcomeOf } from '../server/request-audit.js';

export interface CliAction {
  dataDir: string;
  /** `cli.token.create`, `cli.ingest`, … */
  action: string;
  /** The command line as a path-like label, e.g. `platesearch token create`. */
  command: string;
  /** The tenant the action is about, when it names one (its log gets the record too). */
  tenant?: string;
  params: Record<string, unknown>;
  /** The data dir's keys (`--key-store`): the record is sealed under them when this process appends it. */
  keys?: DataKeys;
}

export interface CliOutcome {
  resultCount?: number;
  /** Further params known only after the action (counts). */
  params?: Record<string, unknown>;
}

function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * Runs `fn`, then records the action (ok, or the failure's status) and only then returns its result or
 * rethrows its error.
 */
export async function auditedCli<T>(a: CliAction, fn: () => Promise<T>, outcome: (r: T) => CliOutcome = () => ({})): Promise<T> {
  const now = Date.now();
  const start = performance.now();
  let result: T | undefined;
  let failure: unknown;
  let ok = false;
  try {
    result = await fn();
    ok = true;
  } catch (err) {
    failure = err;
  }
  const status = ok ? 200 : isPlatesearchError(failure) ? failure.status : 500;
  const extra = ok ? outcome(result as T) : {};
  const logs = [kSystemTenant];
  if (a.tenant !== undefined && isTenantName(a.tenant)) logs.push(a.tenant);
  await recordFromProcess(a.dataDir, logs, {
    ts: formatTimestamp(now),
    requestId: randomUUID(),
    actorTenant: kSystemTenant,
    user: operator(),
    action: a.action,
    method: 'CLI',
    path: a.command,
    params: boundParams({ ...a.params, ...extra.params }).params,
    purpose: null,
    case: null,
    outcome: outcomeOf(status),
    status,
    resultCount: extra.resultCount ?? 0,
    tenantsTouched: a.tenant !== undefined && isTenantName(a.tenant) ? [a.tenant] : [],
    ip: '',
    durationMs: Math.round((performance.now() - start) * 1000) / 1000,
    host: hostname(),
    pid: process.pid,
    ...(ok ? {} : { error: failure instanceof Error ? failure.message.slice(0, 500) : String(failure).slice(0, 500) }),
  }, `cli ${a.action}`, undefined, a.keys);
  if (!ok) throw failure;
  return result as T;
}
