/**
 * The audit record sealed and chained where its batch is written (src/server/audit/batch.ts chainBatch: on the
 * writer thread for plain O_DSYNC descriptors, on the main thread for files without one): every line of the
 * log must be byte for byte what the plain definition gives for the fields handed to append (API.md "Audit"
 * and encryption at rest: the fields outside kPlainAuditFields as AES-256-GCM of their canonical JSON under
 * the keyring's key, nonce = counter, AAD = tenant and seq; hash = sha256(prev "\n" canonical(record));
 * line = canonical(record with hash)), with the counters of a key never reused, and the record each append
 * resolves with equal to the line's. Also: kill -9 of a server under searches loses no answered request's
 * record.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterNonce, sealBytes } from '../src/crypto/aead.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { type DataKeys, wrappedFromJson, type WrappedKeyJson } from '../src/crypto/data-keys.js';
import { canonicalJson, chainHash, kGenesisHash } from '../src/server/audit/record.js';
import { kPlainAuditFields } from '../src/server/audit/sealed-fields.js';
import { AuditTrail } from '../src/server/audit/trail.js';
import { Directory } from '../src/server/tenancy/directory.js';
import { spawnServe } from './helpers/crash-loop.js';
import { oracleVerify } from './helpers/audit-oracle.js';
import { dataDirsRemovedAfterAll } from './helpers/data-dirs.js';
import { FaultPlan, faultyAuditFs } from './helpers/fault-fs.js';
import { readAudit, readAuditStored } from './helpers/server.js';

const dataDir = dataDirsRemovedAfterAll();

/** The plain definition of a stored line, from the fields handed to append and the line's own seq, prev, ts and key. */
function lineByDefinition(fields: Record<string, unknown>, tenant: string, at: { seq: number; prev: string; ts: string }, key: Buffer, keyId: string, counter: number): string {
  const { seq: _s, prev: _p, hash: _h, ...given } = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  const body: Record<string, unknown> = { ...given, tenant, ts: given.ts ?? at.ts, seq: at.seq, prev: at.prev };
  const stored: Record<string, unknown> = {};
  const hidden: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) (kPlainAuditFields.has(k) ? stored : hidden)[k] = v;
  const aad = Buffer.from(`platesearch-audit\n${tenant}\n${at.seq}`);
  stored.sealed = sealBytes(key, counterNonce(0, counter), Buffer.from(canonicalJson(hidden), 'utf8'), aad).toString('base64');
  stored.sealedBy = `${keyId}:${counter}`;
  return `${canonicalJson({ ...stored, hash: chainHash(stored) })}\n`;
}

async function keyringOf(d: string, tenant: string, keys: DataKeys): Promise<Map<string, Buffer>> {
  const ring = new Map<string, Buffer>();
  for (const line of readFileSync(join(d, 'audit', `${tenant}.keys`), 'utf8').split('\n').filter(Boolean)) {
    const j = JSON.parse(line) as { id: string } & WrappedKeyJson;
    ring.set(j.id, await keys.openKey(wrappedFromJson(j)));
  }
  return ring;
}

// keys around "hash" in sort order and the plain fields' names; values of every JSON kind, non-ASCII text
const extraKey = fc.constantFrom('a', 'actor', 'durationMs', 'h', 'hash0', 'hb', 'ip', 'plate', 'sealed', 'zz', 'é', 'seq', 'prev', 'hash');
const fieldsArb = fc.record({
  requestId: fc.uuid(),
  actorTenant: fc.constantFrom('pd-a', 'pd-b', '_system'),
  user: fc.string({ maxLength: 8 }),
  action: fc.constantFrom('search', 'export', 'audit.read', 'é'),
  params: fc.jsonValue({ maxDepth: 3 }),
  purpose: fc.option(fc.string({ maxLength: 20 })),
  case: fc.option(fc.string({ unit: 'binary', maxLength: 12 })),
  outcome: fc.constantFrom('ok', 'denied', 'invalid', 'error'),
  status: fc.integer({ min: 100, max: 599 }),
  resultCount: fc.nat(),
  tenantsTouched: fc.array(fc.constantFrom('pd-a', 'pd-b'), { maxLength: 2 }),
  ip: fc.ipV4(),
  durationMs: fc.double({ min: 0, max: 1e4, noNaN: true }),
}).chain((f) => fc.tuple(fc.constant(f), fc.dictionary(extraKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.option(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }))))
  .map(([f, extra, ts]) => ({ ...extra, ...f, ...(ts ? { ts: ts.toISOString() } : {}) }) as Record<string, unknown>);

describe('audit records sealed and chained where the batch is written', () => {
  for (const path of ['writer thread', 'writer thread, sealed before the hand-off when it is idle (caller idle)', 'main thread (files without a descriptor)'] as const) {
    it(`${path}: every line equals the plain definition, key counters are never reused, each append resolves with its line's record`, async () => {
      const d = await dataDir();
      const { keys } = await openDataDirKeys(d, undefined);
      const onThread = path !== 'main thread (files without a descriptor)';
      const callerIdle = path.includes('caller idle');
      const trail = await AuditTrail.open(d, { keys, fs: onThread ? undefined : faultyAuditFs(new FaultPlan()) /* no descriptor, no faults */ });
      const given = new Map<string, Record<string, unknown>>();
      const resolved = new Map<string, Record<string, unknown>>();
      const tenants = ['pd-a', 'pd-b'];
      // rounds of concurrent appends over two logs (a batch of one, then the rest queued behind it), with
      // odd values: undefined (left out), NaN (null), a Date (its ISO text)
      if (callerIdle) trail.onAppend((_t, r) => void resolved.set(r.requestId, r as unknown as Record<string, unknown>));
      const rounds = fc.sample(fc.array(fieldsArb, { minLength: 1, maxLength: 25 }), { numRuns: 6, seed: 20261203 });
      rounds.push([{ requestId: 'odd', actorTenant: 'pd-a', user: 'u', action: 'search', params: { n: NaN, u: undefined, d: new Date(5) }, purpose: undefined, case: null, outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: [], ip: '', durationMs: 0 }]);
      let k = 0;
      for (const round of rounds) {
        await Promise.all(round.map((f) => {
          const t = tenants[k++ % 2]!;
          const fields = { ...f, requestId: `${t}-${k}` };
          given.set(fields.requestId, fields);
          // caller idle: appendDurable resolves with nothing; the record is what a listener hears
          if (callerIdle) return trail.appendDurable(t, fields as never, { callerIdle });
          return trail.append(t, fields as never).then((r) => void resolved.set(fields.requestId, r as unknown as Record<string, unknown>));
        }));
      }
      const stats = trail.writerStats;
      await trail.close();
      if (onThread) expect(stats.threadCommits).toBe(stats.commits);
      else expect(stats.threadCommits).toBe(0);
      // the first batch of each round finds the thread idle (sealed before the hand-off), those queued behind it do not
      if (callerIdle) expect(stats.madeHere).toBeGreaterThanOrEqual(rounds.length);
      if (callerIdle) expect(stats.madeHere).toBeLessThan(stats.threadCommits);
      else expect(stats.madeHere).toBe(0);
      expect(stats.commits).toBeLessThan(k);

      let lines = 0;
      for (const t of tenants) {
        const ring = await keyringOf(d, t, keys);
        const text = readFileSync(join(d, 'audit', `${t}.jsonl`), 'utf8');
        const counters = new Map<string, Set<number>>();
        let prev = kGenesisHash;
        let seq = 0;
        for (const line of text.split(/(?<=\n)/)) {
          seq++;
          const stored = JSON.parse(line) as Record<string, unknown>;
          const [keyId, counterText] = String(stored.sealedBy).split(':');
          const counter = Number(counterText);
          const used = counters.get(keyId!) ?? new Set<number>();
          expect(used.has(counter), `counter ${counter} of key ${keyId} used twice`).toBe(false);
          used.add(counter);
          counters.set(keyId!, used);
          const fields = given.get(stored.requestId as string)!;
          expect(line).toBe(lineByDefinition(fields, t, { seq, prev, ts: stored.ts as string }, ring.get(keyId!)!, keyId!, counter));
          // the record the append resolved with: the body as given (plain JSON) with the line's seq, prev and hash
          const r = resolved.get(stored.requestId as string)!;
          const { seq: _s, prev: _p, hash: _h, ...plain } = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
          expect(r).toEqual({ ...plain, tenant: t, ts: stored.ts, seq, prev, hash: stored.hash });
          prev = stored.hash as string;
          lines++;
        }
        expect(oracleVerify(join(d, 'audit', `${t}.jsonl`))).toMatchObject({ ok: true, count: seq });
      }
      expect(lines).toBe(k);
      await keys.store.close();
    }, 60_000);
  }
});

describe('kill -9 of a server under searches', () => {
  it('every answered search has its record in the log (opened: its plate), the chain verifies and goes on after a restart', async () => {
    const d = await dataDir();
    const dir = await Directory.open(d, { watch: false });
    const token = (await dir.createToken('pd-a', 'inv', ['investigator'])).token;
    await dir.close();
    for (let run = 0; run < 2; run++) {
      const server = await spawnServe(d, ['--rate-limit', '1000000', '--rate-burst', '10000000']);
      const answered = new Map<string, string>();
      let stop = false;
      const client = async (c: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const plate = `K${run}C${c}N${i}`;
          try {
            const res = await fetch(`${server.url}/v1/search`, {
              method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ plate, purpose: 'p', case: 'c' }),
            });
            await res.text();
            if (res.status === 200) answered.set(res.headers.get('x-request-id')!, plate);
          } catch {
            return; // the server is gone
          }
        }
      };
      const clients = Array.from({ length: 8 }, (_, c) => client(c));
      while (answered.size < 120 + run * 37) await new Promise((r) => setTimeout(r, 5));
      server.proc.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      await server.exited;
      const records = new Map((await readAudit(d, 'pd-a')).map((r) => [r.requestId, r]));
      for (const [id, plate] of answered) {
        expect(records.get(id), `answered request ${id} has no record`).toBeDefined();
        expect((records.get(id)!.params as { plate?: string }).plate).toBe(plate);
      }
    }
    const trail = await AuditTrail.open(d);
    const after = await trail.append('pd-a', { requestId: 'after', actorTenant: 'pd-a', user: 'u', action: 'x', params: {}, purpose: null, case: null, outcome: 'ok', status: 200, resultCount: 0, tenantsTouched: [], ip: '', durationMs: 0 });
    const v = await trail.verify('pd-a');
    await trail.close();
    expect(v).toMatchObject({ ok: true, count: after.seq });
    expect((await readAuditStored(d, 'pd-a')).map((r) => r.seq)).toEqual(Array.from({ length: after.seq }, (_, i) => i + 1));
  }, 120_000);
});
