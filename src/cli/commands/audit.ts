/**
 * `platesearch audit verify --data-dir D [--tenant T]`: verifies audit chains on disk, read-only (safe while a
 * server runs: each log's head marker is read before the log, and a torn line after the marker is a crash
 * artefact the server repairs on start, not a failure).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeAuditFs } from '../../server/audit/fs.js';
import { isAuditLogName, verifyTenantLog } from '../../server/audit/trail.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch audit verify --data-dir D [--tenant T] [--key-store K]

Verifies the hash chain of every tenant's audit log under D/audit (or only tenant T's; "_system"
is the log of unauthenticated requests) against the rule of API.md:
  hash = sha256hex(prev + "\\n" + canonical(record without hash)), first prev = 64 zeros,
and against each log's durable head marker (D/audit/<tenant>.head), so deleted trailing
records are caught too. Prints one line per tenant:
  <tenant> ok count=<N> head=<hash>
  <tenant> FAILED brokenAt=<seq> count=<valid records before it> reason="<why>"
Exit status: 0 if every log verifies, 1 if any does not, 2 on bad usage.
Read-only: safe while a server runs on D. Needs no key: the chain covers the sealed records as
stored. A --key-store given is checked all the same.
${keyStoreUsage}`;

function fail(message: string): number {
  process.stderr.write(`platesearch audit: ${message}\n\n${usage}\n`);
  return 2;
}

export const command: Command = {
  summary: 'verify the audit hash chains',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'verify') return fail(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`);
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string };
    try {
      ({ values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' }, tenant: { type: 'string' }, ...keyStoreOption }, strict: true, allowPositionals: false }));
    } catch (err) {
      return fail((err as Error).message);
    }
    const dataDir = values['data-dir'];
    if (!dataDir) return fail('--data-dir is required');
    if (!existsSync(dataDir)) return fail(`data dir ${dataDir} does not exist`);
    // the chain covers the sealed lines as stored: verification needs no key. A --key-store given is
    // still checked (a wrong one is refused), so scripts that pass it everywhere learn of a mix-up here too.
    if (values['key-store'] !== undefined) await (await openCommandKeys('audit', dataDir, values['key-store'])).store.close();
    const auditDir = join(dataDir, 'audit');
    let tenants: string[];
    if (values.tenant !== undefined) {
      if (!isAuditLogName(values.tenant)) return fail(`not a tenant name: "${values.tenant}"`);
      tenants = [values.tenant];
    } else {
      const names = existsSync(auditDir) ? readdirSync(auditDir) : [];
      const set = new Set<string>();
      for (const n of names) {
        const m = /^(.*)\.(jsonl|head)$/.exec(n);
        if (m && isAuditLogName(m[1]!)) set.add(m[1]!);
      }
      tenants = [...set].sort();
      if (tenants.length === 0) process.stderr.write(`platesearch audit: no audit logs under ${auditDir}\n`);
    }
    let allOk = true;
    for (const tenant of tenants) {
      const r = await verifyTenantLog(nodeAuditFs, auditDir, tenant);
      if (r.ok) {
        process.stdout.write(`${tenant} ok count=${r.count} head=${r.head}${r.tornTail ? ' (torn tail after the head: repaired at next server start)' : ''}\n`);
      } else {
        allOk = false;
        process.stdout.write(`${tenant} FAILED brokenAt=${r.brokenAt} count=${r.count} reason=${JSON.stringify(r.reason)}\n`);
      }
    }
    return allOk ? 0 : 1;
  },
};
