/**
 * The audit log's data keys (API.md, encryption at rest): which fields are sealed and how is
 * sealed-fields.ts; this file makes the keys, keeps their keyring and opens sealed records.
 *
 * The chain hashes the record as stored, so `platesearch audit verify` (and any verifier) needs no key.
 *
 * Keys: a fresh data key per log per process and UTC month, wrapped under the tenant's audit KEK of that
 * month (`t/<tenant>/a/<yyyymm>`: audit keys follow audit retention, not read retention) and appended to the
 * log's keyring `audit/<tenant>.keys` (one JSON line per key: {"id", "kek", "wrapped"}, fsync'd) before the
 * first record that uses it. A new process takes a new key, so a counter is never reused after a crash;
 * a failed batch does not give its counters back. The key and a batch's counters are handed to wherever the
 * batch is sealed (batch.ts: the writer thread, which keeps no key after the batch); the key store (file
 * or PKCS#11) is asked only here, on the main thread, to wrap and unwrap.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { counterNonce } from '../../crypto/aead.js';
import { isKeyDestroyed, wrappedFromJson, wrappedToJson, type DataKeys, type WrappedKey, type WrappedKeyJson } from '../../crypto/data-keys.js';
import { auditEpoch } from '../../crypto/key-names.js';
import { auditAad, type SealKey } from './sealed-fields.js';

interface CurrentKey {
  id: string;
  key: Buffer;
  counter: number;
  epoch: string;
}

export function keyringPath(auditDir: string, tenant: string): string {
  return join(auditDir, `${tenant}.keys`);
}

export class AuditSealer {
  private readonly rings = new Map<string, Map<string, WrappedKey>>();
  private readonly current = new Map<string, CurrentKey>();

  constructor(readonly dir: string, readonly keys: DataKeys) {}

  /** Whether `tenant` has its data key for the month of `ms` (prepare would do nothing). */
  prepared(tenant: string, ms: number): boolean {
    return this.current.get(tenant)?.epoch === auditEpoch(tenant, ms);
  }

  /** Makes sure `tenant` has a data key for the month of `ms` (durable in its keyring) before a batch is sealed. */
  async prepare(tenant: string, ms: number): Promise<void> {
    const epoch = auditEpoch(tenant, ms);
    const cur = this.current.get(tenant);
    if (cur && cur.epoch === epoch) return;
    const k = await this.keys.newKey(epoch);
    const id = randomBytes(8).toString('hex');
    const line = JSON.stringify({ id, ...wrappedToJson(k) }) + '\n';
    const fh = await fsp.open(keyringPath(this.dir, tenant), fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
    try {
      await fh.write(line);
      await fh.sync();
    } finally {
      await fh.close();
    }
    (await this.ring(tenant)).set(id, { kek: k.kek, wrapped: k.wrapped });
    this.current.set(tenant, { id, key: k.key, counter: 0, epoch });
  }

  /** The prepared key of `tenant` with the next `n` counters taken (a batch of `n` records seals under them). */
  take(tenant: string, n: number): SealKey {
    const cur = this.current.get(tenant);
    if (!cur) throw new Error(`audit sealer: no key prepared for ${tenant}`);
    const counter = cur.counter;
    cur.counter += n;
    return { id: cur.id, key: cur.key, counter };
  }

  /**
   * The record with its sealed fields opened (and `sealed`/`sealedBy` removed). A record whose key was
   * destroyed or that does not open is returned as stored, with `sealedError`.
   */
  async open(tenant: string, record: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (typeof record.sealed !== 'string' || typeof record.sealedBy !== 'string') return record;
    const [id, counterText] = record.sealedBy.split(':');
    let ref = (await this.ring(tenant)).get(id!);
    if (!ref) ref = (await this.ring(tenant, true)).get(id!);
    if (!ref) return { ...record, sealedError: 'its key is not in the keyring' };
    let key: Buffer;
    try {
      key = await this.keys.openKey(ref);
    } catch (err) {
      return { ...record, sealedError: isKeyDestroyed(err) ? 'its key was destroyed' : 'its key does not open' };
    }
    const plain = this.keys.cipher.open(key, counterNonce(0, Number(counterText)), Buffer.from(record.sealed, 'base64'), auditAad(tenant, record.seq as number));
    if (!plain) return { ...record, sealedError: 'the sealed fields do not authenticate' };
    const { sealed: _s, sealedBy: _b, ...rest } = record;
    return { ...rest, ...(JSON.parse(plain.toString('utf8')) as Record<string, unknown>) };
  }

  private async ring(tenant: string, reload = false): Promise<Map<string, WrappedKey>> {
    let ring = this.rings.get(tenant);
    if (ring && !reload) return ring;
    ring = ring ?? new Map();
    let text = '';
    try {
      text = await fsp.readFile(keyringPath(this.dir, tenant), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const j = JSON.parse(line) as { id: string } & WrappedKeyJson;
        ring.set(j.id, wrappedFromJson(j));
      } catch {
        // a torn last line (crash while appending): its key was never used
      }
    }
    this.rings.set(tenant, ring);
    return ring;
  }

  /** Rewrites a tenant's keyring under the current KEKs of its epochs (key rotation); returns how many keys were rewrapped. */
  async rewrap(only: string): Promise<number> {
    let n = 0;
    for (const name of await fsp.readdir(this.dir)) {
      if (!name.endsWith('.keys')) continue;
      const tenant = name.slice(0, -'.keys'.length);
      if (tenant !== only) continue;
      const ring = await this.ring(tenant, true);
      const lines: string[] = [];
      for (const [id, ref] of ring) {
        const epoch = ref.kek.slice(0, ref.kek.lastIndexOf('/'));
        let next = ref;
        try {
          next = await this.keys.rewrap(ref, epoch);
          n++;
        } catch (err) {
          if (!isKeyDestroyed(err)) throw err;
        }
        ring.set(id, next);
        lines.push(JSON.stringify({ id, ...wrappedToJson(next) }));
      }
      const file = keyringPath(this.dir, tenant);
      const tmp = `${file}.tmp-${process.pid}`;
      await fsp.writeFile(tmp, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o600 });
      const fh = await fsp.open(tmp, 'r+');
      await fh.sync();
      await fh.close();
      await fsp.rename(tmp, file);
    }
    const dh = await fsp.open(this.dir, fsc.O_RDONLY);
    await dh.sync();
    await dh.close();
    return n;
  }
}
