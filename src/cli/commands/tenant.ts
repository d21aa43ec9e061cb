/**
 * `platesearch tenant purge --data-dir D --key-store K --tenant T --confirm T`: off-boards tenant T by
 * crypto-shredding (src/crypto/purge.ts): destroys every key of T, deletes its files, revokes its tokens and
 * grants, and records the purge in `audit/_system.jsonl`. A copy of D taken before yields none of T's reads.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isTenantName, kSystemTenant } from '../../model/tenant.js';
import { purgeTenantData } from '../../crypto/purge.js';
import { AuditTrail } from '../../server/audit/trail.js';
import { acquireEngineLock } from '../../server/tenancy/data-dir-lock.js';
import { Directory } from '../../server/tenancy/directory.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch tenant purge --data-dir D [--key-store K] --tenant T --confirm T

Off-boards tenant T for good: destroys every key of T in the key store (its reads, hot lists, alerts and
the sealed fields of its audit records become unreadable in every copy and backup of D), deletes its
files, revokes its users' tokens and its grants, and records the purge in D/audit/_system.jsonl.
--confirm must repeat the tenant's name. T's audit chain stays (it verifies without keys).
Refuses to run while a server runs on D.
${keyStoreUsage}`;

function fail(message: string): number {
  process.stderr.write(`platesearch tenant: ${message}\n\n${usage}\n`);
  return 2;
}

export const command: Command = {
  summary: 'purge a tenant: destroy its keys and delete its data (crypto-shredding)',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'purge') return fail(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`);
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string; confirm?: string };
    try {
      ({ values } = parseArgs({
        args: rest,
        options: { 'data-dir': { type: 'string' }, tenant: { type: 'string' }, confirm: { type: 'string' }, ...keyStoreOption },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      return fail((err as Error).message);
    }
    const dataDir = values['data-dir'];
    const tenant = values.tenant;
    if (!dataDir) return fail('--data-dir is required');
    if (!tenant) return fail('--tenant is required');
    if (!isTenantName(tenant)) return fail(`not a tenant name: "${tenant}"`);
    if (values.confirm !== tenant) return fail(`--confirm must repeat the tenant's name (${tenant})`);

    const t0 = Date.now();
    const keys = await openCommandKeys('tenant', dataDir, values['key-store']);
    const lock = acquireEngineLock(dataDir, 'tenant purge');
    try {
      const outcome = await purgeTenantData(dataDir, keys, tenant);
      const directory = await Directory.open(dataDir, { watch: false });
      let revoked = 0;
      try {
        if (directory.tenantExists(tenant)) revoked = await directory.offboardTenant(tenant);
      } finally {
        await directory.close();
      }
      const trail = await AuditTrail.open(dataDir, { keys });
      try {
        await trail.append(kSystemTenant, {
          requestId: `cli-${randomUUID()}`, actorTenant: kSystemTenant, user: '', action: 'tenant.purge',
          params: { tenant, keysDestroyed: outcome.keysDestroyed.length, tokensRevoked: revoked }, purpose: null, case: null,
          outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: [tenant], ip: '', durationMs: Date.now() - t0,
        });
      } finally {
        await trail.close();
      }
      process.stdout.write(`purged ${tenant}: ${outcome.keysDestroyed.length} keys destroyed, ${revoked} tokens revoked\n`);
      return 0;
    } finally {
      lock.release();
      await keys.store.close();
    }
  },
};
