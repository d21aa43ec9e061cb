/**
 * Acknowledgements of alerts (API.md v1.1 "Alerts: acknowledgement"): what a dispatcher did about an alert,
 * once per alert, durable before the answer. One append-only file per subscribing tenant, beside its alert
 * log (src/alerts/log.ts), `D/alerts/<tenant>.acks`:
 *
 *   ┌────────┬─────────┬─────────────────────┬────────────────────────────────────────────────────┐
 *   │ "PSAK" │ version │ u16 keyRefLen,      │ records: u32 length, u32 crc32(payload),           │
 *   │ 4 B    │ u32 LE  │ keyRef (key-ref.ts) │ payload = AES-256-GCM, random nonce ‖ ct ‖ tag, of │
 *   │        │ = 2     │                     │ JSON {"id","outcome","note","user","ts"}           │
 *   └────────┴─────────┴─────────────────────┴────────────────────────────────────────────────────┘
 *
 * Encrypted at rest (version 2): a note is free text and often names a plate. Each file has its own data
 * key, wrapped under the tenant's ack KEK `t/<tenant>/acks` and kept inline after the header; every
 * record is sealed under it with a random nonce (a torn or failed append is retried at the same offset,
 * so a counter nonce could repeat) and the file's header as AAD. Compaction writes a fresh file under a
 * fresh key (that is also how key rotation moves it to a new KEK generation). A version 1 (plaintext)
 * file is read and rewritten sealed when first opened.
 *
 * Kept apart from the alert log on purpose: the alert log is written by the ingest path in group commits
 * and compacted by retention; acks are rare human actions. Acks of one tenant are serialised (check, write,
 * fdatasync, then visible), so two concurrent acks of one alert give one 200 and one 409, never two 200s.
 * Recovery truncates a torn tail (a record whose answer was never sent); in a sealed log, a record that
 * does not authenticate, or a bad CRC before the last record, is PS_CORRUPT_FILE (damage, not a crash). When retention sweeps an alert
 * from the alert log, its ack goes too (compact): the ack names no plate, but it is about a read that is
 * gone. The audit record of the ack request (action `alerts.ack`) stays, like every audit record.
 */
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptFile, StorageUnavailable, UnsupportedFormat } from '../errors.js';
import { writeFileAtomic } from '../store/durable-fs.js';
import { openWithRandomNonce, sealWithRandomNonce, type Cipher } from '../crypto/cipher.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';
import { ackLogEpoch } from '../crypto/key-names.js';
import { decodeKeyRef, encodeKeyRef } from '../crypto/key-ref.js';

const kMagic = 0x4b415350; // "PSAK" read as u32 LE
export const kAckLogVersion = 2;
/** The plaintext version before encryption at rest: read, then rewritten sealed. */
const kPlainVersion = 1;
const kHeaderBytes = 8;
const kRecordHeader = 8;

export const kAckOutcomes = ['confirmed', 'rejected', 'not-actioned'] as const;
export type AckOutcome = (typeof kAckOutcomes)[number];

/** One acknowledgement as stored; `ts` is epoch ms. */
export interface AlertAck {
  id: number;
  outcome: AckOutcome;
  note: string;
  user: string;
  ts: number;
}

interface TenantAcks {
  path: string;
  /** This file's data key and its header (magic, version, key ref): the AAD of every record. */
  key: Buffer;
  head: Buffer;
  fh: FileHandle;
  size: number;
  acks: Map<number, AlertAck>;
  /** Serialises appends and compaction of this tenant's acks. */
  chain: Promise<unknown>;
}

/** The result of an ack attempt: stored now, or the ack that was already there. */
export type AckResult = { stored: true; ack: AlertAck } | { stored: false; existing: AlertAck };

export class AckLog {
  private readonly logs = new Map<string, TenantAcks>();
  private readonly opening = new Map<string, Promise<TenantAcks>>();
  private closed = false;

  private constructor(readonly dir: string, private readonly keys: DataKeys) {}

  static async open(dataDir: string, keys?: DataKeys): Promise<AckLog> {
    const log = new AckLog(join(dataDir, 'alerts'), keys ?? (await openDataDirKeys(dataDir, undefined)).keys);
    await mkdir(log.dir, { recursive: true });
    return log;
  }

  /** The ack of alert `id`, if any. */
  async get(tenant: string, id: number): Promise<AlertAck | undefined> {
    return (await this.tenantAcks(tenant)).acks.get(id);
  }

  /** Tenants with an ack file. */
  async tenants(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.acks')).map((f) => f.slice(0, -5)).sort();
  }

  /** Number of acks the tenant holds. */
  async count(tenant: string): Promise<number> {
    return (await this.tenantAcks(tenant)).acks.size;
  }

  /** Alert ids the tenant's acks are about. */
  async ids(tenant: string): Promise<number[]> {
    return [...(await this.tenantAcks(tenant)).acks.keys()];
  }

  /** Acks of the given alert ids (for a page of alerts). */
  async getMany(tenant: string, ids: readonly number[]): Promise<Map<number, AlertAck>> {
    const t = await this.tenantAcks(tenant);
    const out = new Map<number, AlertAck>();
    for (const id of ids) {
      const a = t.acks.get(id);
      if (a) out.set(id, a);
    }
    return out;
  }

  /**
   * Stores `ack` unless alert `ack.id` already has one. Resolves once it is durable; a failed write throws
   * PS_STORAGE_UNAVAILABLE and leaves nothing behind (the file is cut back to its durable length).
   */
  async acknowledge(tenant: string, ack: AlertAck): Promise<AckResult> {
    if (this.closed) throw StorageUnavailable('The alert acknowledgement log is closed');
    const t = await this.tenantAcks(tenant);
    return this.onChain(t, async () => {
      const existing = t.acks.get(ack.id);
      if (existing) return { stored: false, existing };
      const rec = encodeRecord(this.keys.cipher, t.key, t.head, ack);
      try {
        await t.fh.write(rec, 0, rec.length, t.size);
        await t.fh.datasync();
      } catch (err) {
        await t.fh.truncate(t.size).catch(() => undefined);
        throw StorageUnavailable(`The acknowledgement could not be stored durably: ${(err as Error).message}`);
      }
      t.size += rec.length;
      t.acks.set(ack.id, ack);
      return { stored: true, ack };
    });
  }

  /**
   * Rewrites the tenant's acks without those whose alert `keep` refuses (swept alerts); returns how many
   * went. `force` rewrites under a fresh key even when none goes (key rotation).
   */
  async compact(tenant: string, keep: (id: number) => boolean, options: { force?: boolean } = {}): Promise<number> {
    const t = await this.tenantAcks(tenant);
    return this.onChain(t, async () => {
      const kept = [...t.acks.values()].filter((a) => keep(a.id));
      const dropped = t.acks.size - kept.length;
      if (dropped === 0 && !options.force) return 0;
      await t.fh.close();
      Object.assign(t, await this.rewrite(tenant, t.path, kept));
      return dropped;
    });
  }

  /** Writes `acks` to a fresh file under a fresh key (temp + fsync + rename + fsync dir); opens it. */
  private async rewrite(tenant: string, path: string, acks: readonly AlertAck[]): Promise<Omit<TenantAcks, 'chain' | 'path'>> {
    const k = await this.keys.newKey(ackLogEpoch(tenant));
    const head = header(encodeKeyRef(k));
    const bytes = Buffer.concat([head, ...acks.map((a) => encodeRecord(this.keys.cipher, k.key, head, a))]);
    await writeFileAtomic(path, bytes, path + '.tmp');
    return { key: k.key, head, fh: await open(path, 'r+'), size: bytes.length, acks: new Map(acks.map((a) => [a.id, a])) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.logs.values()) {
      await t.chain.catch(() => undefined);
      await t.fh.close().catch(() => undefined);
    }
    this.logs.clear();
  }

  private onChain<T>(t: TenantAcks, work: () => Promise<T>): Promise<T> {
    const next = t.chain.then(work, work);
    t.chain = next.catch(() => undefined);
    return next;
  }

  private tenantAcks(tenant: string): Promise<TenantAcks> {
    const have = this.logs.get(tenant);
    if (have) return Promise.resolve(have);
    let p = this.opening.get(tenant);
    if (!p) {
      p = this.load(tenant).then((t) => {
        this.logs.set(tenant, t);
        return t;
      });
      this.opening.set(tenant, p);
      p.finally(() => this.opening.delete(tenant)).catch(() => undefined);
    }
    return p;
  }

  private async load(tenant: string): Promise<TenantAcks> {
    const path = join(this.dir, `${tenant}.acks`);
    let whole: Buffer;
    try {
      whole = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { path, chain: Promise.resolve(), ...(await this.rewrite(tenant, path, [])) };
    }
    // created but its header never became durable: nothing was acknowledged in it
    if (whole.length < kHeaderBytes) return { path, chain: Promise.resolve(), ...(await this.rewrite(tenant, path, [])) };
    if (whole.readUInt32LE(0) !== kMagic) throw CorruptFile(`Not an alert acknowledgement log: ${path}`, { file: path });
    const version = whole.readUInt32LE(4);
    if (version === kPlainVersion) {
      // written before encryption at rest: its complete records, sealed now (a torn tail goes, as ever)
      const acks = readRecords(path, whole, kHeaderBytes, (p) => p, false).acks;
      return { path, chain: Promise.resolve(), ...(await this.rewrite(tenant, path, [...acks.values()])) };
    }
    if (version !== kAckLogVersion) throw UnsupportedFormat(`Alert acknowledgement log version ${version} is not supported: ${path}`, { file: path });
    if (whole.length < kHeaderBytes + 2 || whole.length < kHeaderBytes + 2 + whole.readUInt16LE(kHeaderBytes)) {
      return { path, chain: Promise.resolve(), ...(await this.rewrite(tenant, path, [])) }; // a header cut short at creation
    }
    const headLen = kHeaderBytes + 2 + whole.readUInt16LE(kHeaderBytes);
    const head = Buffer.from(whole.subarray(0, headLen));
    const ref = decodeKeyRef(head, kHeaderBytes + 2);
    if (!ref || ref.end !== headLen) throw CorruptFile(`The alert acknowledgement log has a damaged key reference: ${path}`, { file: path });
    const key = await this.keys.openKey(ref.ref);
    const { acks, end } = readRecords(path, whole, headLen, (sealed) => openWithRandomNonce(this.keys.cipher, key, sealed, head), true);
    const fh = await open(path, 'r+');
    if (end < whole.length) {
      await fh.truncate(end); // torn tail: its ack was never answered
      await fh.sync();
    }
    return { path, key, head, fh, size: end, acks, chain: Promise.resolve() };
  }
}

/** One record: u32 length, u32 crc32, the ack's JSON sealed under the file's key (AAD: the file's header). */
function encodeRecord(cipher: Cipher, key: Buffer, head: Buffer, ack: AlertAck): Buffer {
  const payload = sealWithRandomNonce(cipher, key, Buffer.from(JSON.stringify(ack), 'utf8'), head);
  const rec = Buffer.allocUnsafe(kRecordHeader + payload.length);
  rec.writeUInt32LE(payload.length, 0);
  rec.writeUInt32LE(crc32(payload), 4);
  payload.copy(rec, kRecordHeader);
  return rec;
}

/**
 * The complete records from `off`, and where they end: a record that runs past the end of the file, or a
 * last record whose CRC fails, is a torn tail (cut there). With `strict` (sealed logs), a CRC failure
 * before the last record, or a record whose CRC holds but that does not authenticate, is damage or
 * tampering, not a crash: PS_CORRUPT_FILE naming the file, never a silently shorter log.
 */
function readRecords(file: string, whole: Buffer, off: number, open: (payload: Buffer) => Buffer | undefined, strict: boolean): { acks: Map<number, AlertAck>; end: number } {
  const acks = new Map<number, AlertAck>();
  while (off + kRecordHeader <= whole.length) {
    const len = whole.readUInt32LE(off);
    const end = off + kRecordHeader + len;
    if (end > whole.length) break;
    const payload = whole.subarray(off + kRecordHeader, end);
    if (crc32(payload) !== whole.readUInt32LE(off + 4)) {
      if (strict && end < whole.length) throw CorruptFile(`Alert acknowledgement log is damaged at byte ${off}: ${file}`, { file, offset: off });
      break;
    }
    const plain = open(payload);
    if (!plain) {
      if (strict) throw CorruptFile(`An acknowledgement at byte ${off} fails authentication (damaged or the wrong key): ${file}`, { file, offset: off });
      break;
    }
    let ack: AlertAck;
    try {
      ack = JSON.parse(plain.toString('utf8')) as AlertAck;
    } catch {
      if (strict) throw CorruptFile(`An acknowledgement at byte ${off} is not JSON: ${file}`, { file, offset: off });
      break;
    }
    acks.set(ack.id, ack);
    off = end;
  }
  return { acks, end: off };
}

function header(keyRef: Buffer): Buffer {
  const b = Buffer.alloc(kHeaderBytes + 2 + keyRef.length);
  b.writeUInt32LE(kMagic, 0);
  b.writeUInt32LE(kAckLogVersion, 4);
  b.writeUInt16LE(keyRef.length, kHeaderBytes);
  keyRef.copy(b, kHeaderBytes + 2);
  return b;
}
