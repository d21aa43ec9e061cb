/**
 * Tenant off-boarding by crypto-shredding (`platesearch tenant purge`): every KEK of the tenant is
 * destroyed first (that alone makes every copy of its data unreadable: shards, WAL, hot lists, its legal
 * holds, approval requests and alert acknowledgements, its alert log, its audit records' sealed fields, and its reads inside other tenants' alert logs), then its files are
 * deleted. Idempotent: a purge cut short by a crash is finished by running it again; a server opening a
 * half-purged data dir finds the tenant's files shredded and leaves them out.
 *
 * Kept: the tenant's audit chain `audit/<tenant>.jsonl` and its head marker. Its sealed fields no longer
 * open, but the chain still verifies without keys: evidence that the records existed and were not altered,
 * which CJIS-style audit retention asks for. Its keyring `audit/<tenant>.keys` goes (nothing left to open).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataKeys } from './data-keys.js';
import { tenantKeyPrefix } from './key-names.js';

export interface PurgeOutcome {
  keysDestroyed: string[];
  pathsDeleted: string[];
}

/** The tenant's files and directories under the data dir that purge deletes. */
export function tenantDataPaths(dataDir: string, tenant: string): string[] {
  return [
    join(dataDir, 'tenants', tenant),
    join(dataDir, 'hotlists', tenant),
    join(dataDir, 'alerts', `${tenant}.log`),
    join(dataDir, 'alerts', `${tenant}.acks`),
    join(dataDir, 'control', 'holds', `${tenant}.json`),
    join(dataDir, 'governance', 'approvals', `${tenant}.approvals`),
    join(dataDir, 'audit', `${tenant}.keys`),
  ];
}

export async function purgeTenantData(dataDir: string, keys: DataKeys, tenant: string): Promise<PurgeOutcome> {
  const keysDestroyed = await keys.list(tenantKeyPrefix(tenant));
  await keys.destroy(keysDestroyed);
  const pathsDeleted: string[] = [];
  for (const p of tenantDataPaths(dataDir, tenant)) {
    await rm(p, { recursive: true, force: true });
    pathsDeleted.push(p);
  }
  return { keysDestroyed, pathsDeleted };
}
