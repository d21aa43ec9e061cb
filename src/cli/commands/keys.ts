/**
 * `platesearch keys rotate --data-dir D [--key-store K] --tenant T [--destroy-old]`: new key-encryption
 * keys for every epoch of T, every data key rewrapped under them (src/crypto/rotate.ts); recorded in
 * `audit/_system.jsonl`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isTenantName, kSystemTenant } from '../../model/tenant.js';
import { bumpTenant } from '../../crypto/rotate.js';
import { rewrapDayShards } from '../../crypto/shred.js';
import { StoreEngine } from '../../engine/store-engine.js';
import { rewriteLiveLog } from '../../store/sealer.js';
import { AuditTrail } from '../../server/audit/trail.js';
import { AuditSealer } from '../../server/audit/sealing.js';
import { acquireEngineLock } from '../../server/tenancy/data-dir-lock.js';
import { HotlistStore } from '../../hotlist/store.js';
import { AlertLog } from '../../alerts/log.js';
import { AckLog } from '../../alerts/ack-log.js';
import { HoldStore } from '../../server/tenancy/holds.js';
import { ApprovalStore } from '../../server/governance/approvals.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch keys rotate --data-dir D [--key-store K] --tenant T [--destroy-old]

Makes a new generation of every key-encryption key of tenant T and wraps every data key of T again under
it: shard keys in the manifest and the audit keyring are rewrapped (the data is not rewritten); hot lists,
legal holds, approvals, alert acknowledgements, the live write-ahead log and alert logs are written again
under fresh keys. Older generations stay (older copies of D still open) unless --destroy-old, which destroys them at the end (after a suspected compromise).
Recorded in D/audit/_system.jsonl. Refuses to run while a server runs on D.
${keyStoreUsage}`;

function fail(message: string): number {
  process.stderr.write(`platesearch keys: ${message}\n\n${usage}\n`);
  return 2;
}

export const command: Command = {
  summary: 'rotate a tenant\'s key-encryption keys (rewrap its keyrings)',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'rotate') return fail(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`);
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string; 'destroy-old'?: boolean };
    try {
      ({ values } = parseArgs({
        args: rest,
        options: { 'data-dir': { type: 'string' }, tenant: { type: 'string' }, 'destroy-old': { type: 'boolean' }, ...keyStoreOption },
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

    const t0 = Date.now();
    const keys = await openCommandKeys('keys', dataDir, values['key-store']);
    const lock = acquireEngineLock(dataDir, 'keys rotate');
    try {
      const old = await bumpTenant(keys, tenant);
      let rewrapped = 0;
      // shards: rewrap in the manifest; the live log: fresh lanes
      const engine = await StoreEngine.open({ dataDir, threads: 0, keys, sealAgeMs: 0 });
      try {
        const store = engine.storeOf(tenant);
        if (store) {
          await rewriteLiveLog(store);
          for (const day of new Set(store.manifest.shards.map((e) => e.day))) rewrapped += await rewrapDayShards(store, day);
        }
      } finally {
        await engine.close();
      }
      // audit keyring: rewrap
      rewrapped += await new AuditSealer(join(dataDir, 'audit'), keys).rewrap(tenant).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return 0;
        throw err;
      });
      // hot lists: written again under fresh keys
      const hotlists = await HotlistStore.open(dataDir, keys);
      for (const l of hotlists.listsOf(tenant)) await hotlists.put(tenant, l.list);
      // alert logs: every log may hold T's reads (lanes under T's day keys); T's own under its owner key
      const alerts = await AlertLog.open(dataDir, keys);
      try {
        for (const t of await alerts.tenants()) await alerts.compact(t, () => true, { force: true });
      } finally {
        await alerts.close();
      }
      // legal holds, approvals, alert acks: carry their key inline, so written again under fresh keys
      const holds = await HoldStore.open(dataDir, keys);
      if (holds.tenantsWithHolds().includes(tenant)) await holds.reseal(tenant);
      const approvals = await ApprovalStore.open(dataDir, keys);
      if (approvals.tenants().includes(tenant)) await approvals.reseal(tenant);
      const acks = await AckLog.open(dataDir, keys);
      try {
        if ((await acks.tenants()).includes(tenant)) await acks.compact(tenant, () => true, { force: true });
      } finally {
        await acks.close();
      }
      const destroyed = values['destroy-old'] ? old : [];
      await keys.destroy(destroyed);
      const trail = await AuditTrail.open(dataDir, { keys });
      try {
        await trail.append(kSystemTenant, {
          requestId: `cli-${randomUUID()}`, actorTenant: kSystemTenant, user: '', action: 'keys.rotate',
          params: { tenant, generationsReplaced: old.length, keysRewrapped: rewrapped, destroyedOld: destroyed.length }, purpose: null, case: null,
          outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: [tenant], ip: '', durationMs: Date.now() - t0,
        });
      } finally {
        await trail.close();
      }
      process.stdout.write(`rotated ${tenant}: ${old.length} key generations replaced, ${rewrapped} data keys rewrapped${destroyed.length ? `, ${destroyed.length} old keys destroyed` : ''}\n`);
      return 0;
    } finally {
      lock.release();
      await keys.store.close();
    }
  },
};
