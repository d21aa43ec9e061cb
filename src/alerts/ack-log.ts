/**
 * Acknowledgements of alerts (API.md v1.1 "Alerts: acknowledgement"): what a dispatcher did about an alert,
 * once per alert, durable before the answer. One append-only file per subscribing tenant, beside its alert
 * log (src/alerts/log.ts), `D/alerts/<tenant>.acks`:
 *
 *   ┌────────┬─────────┬──────────────────────────────────────────────────────────────────────┐
 *   │ "PSAK" │ version │ records: u32 length, u32 crc32(payload), payload = JSON              │
 *   │ 4 B    │ u32 LE  │ {"id", "outcome", "note", "user", "ts"} (id = the alert's id)        │
 *   └────────┴─────────┴──────────────────────────────────────────────────────────────────────┘
 *
 * Kept apart from the alert log on purpose: the alert log is written by the ingest path in group commits
 * and compacted by retention; acks are rare human actions. Acks of one tenant are serialised (check, write,
 * fdatasync, then visible), so two concurrent acks of one alert give one 200 and one 409, never two 200s.
 * Recovery truncates a torn tail (a record whose answer was never sent). When retention sweeps an alert
 * from the alert log, its ack goes too (compact): the ack names no plate, but it is about a read that is
 * gone. The audit record of the ack request (action `alerts.ack`) stays, like every audit record.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptFile, StorageUnavailable, UnsupportedFormat } from '../errors.js';

const kMagic = 0x4b415350; // "PSAK" read as u32 LE
export const kAckLogVersion = 1;
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

  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<AckLog> {
    const log = new AckLog(join(dataDir, 'alerts'));
    await mkdir(log.dir, { recursive: true });
    return log;
  }

  /** The ack of alert `id`, if any. */
  async get(tenant: string, id: number): Promise<AlertAck | undefined> {
    return (await this.tenantAcks(tenant)).acks.get(id);
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
      const payload = Buffer.from(JSON.stringify(ack), 'utf8');
      const rec = Buffer.allocUnsafe(kRecordHeader + payload.length);
      rec.writeUInt32LE(payload.length, 0);
      rec.writeUInt32LE(crc32(payload), 4);
      payload.copy(rec, kRecordHeader);
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

  /** Rewrites the tenant's acks without those whose alert `keep` refuses (swept alerts); returns how many went. */
  async compact(tenant: string, keep: (id: number) => boolean): Promise<number> {
    const t = await this.tenantAcks(tenant);
    return this.onChain(t, async () => {
      const kept = [...t.acks.values()].filter((a) => keep(a.id));
      const dropped = t.acks.size - kept.length;
      if (dropped === 0) return 0;
      const parts: Buffer[] = [header()];
      for (const a of kept) {
        const payload = Buffer.from(JSON.stringify(a), 'utf8');
        const rec = Buffer.allocUnsafe(kRecordHeader);
        rec.writeUInt32LE(payload.length, 0);
        rec.writeUInt32LE(crc32(payload), 4);
        parts.push(rec, payload);
      }
      const bytes = Buffer.concat(parts);
      const tmp = t.path + '.tmp';
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, t.path);
      await fsyncDir(this.dir);
      await t.fh.close();
      t.fh = await open(t.path, 'r+');
      t.size = bytes.length;
      t.acks = new Map(kept.map((a) => [a.id, a]));
      return dropped;
    });
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
      const fh = await open(path, 'w+');
      await fh.write(header(), 0, kHeaderBytes, 0);
      await fh.sync();
      await fsyncDir(this.dir);
      return { path, fh, size: kHeaderBytes, acks: new Map(), chain: Promise.resolve() };
    }
    const fh = await open(path, 'r+');
    if (whole.length < kHeaderBytes) {
      // created but its header never became durable: nothing was acknowledged in it
      await fh.truncate(0);
      await fh.write(header(), 0, kHeaderBytes, 0);
      await fh.sync();
      return { path, fh, size: kHeaderBytes, acks: new Map(), chain: Promise.resolve() };
    }
    if (whole.readUInt32LE(0) !== kMagic) {
      await fh.close();
      throw CorruptFile(`Not an alert acknowledgement log: ${path}`, { file: path });
    }
    const version = whole.readUInt32LE(4);
    if (version !== kAckLogVersion) {
      await fh.close();
      throw UnsupportedFormat(`Alert acknowledgement log version ${version} is not supported: ${path}`, { file: path });
    }
    const acks = new Map<number, AlertAck>();
    let off = kHeaderBytes;
    while (off + kRecordHeader <= whole.length) {
      const len = whole.readUInt32LE(off);
      const end = off + kRecordHeader + len;
      if (end > whole.length) break;
      const payload = whole.subarray(off + kRecordHeader, end);
      if (crc32(payload) !== whole.readUInt32LE(off + 4)) break;
      let ack: AlertAck;
      try {
        ack = JSON.parse(payload.toString('utf8')) as AlertAck;
      } catch {
        break;
      }
      acks.set(ack.id, ack);
      off = end;
    }
    if (off < whole.length) {
      await fh.truncate(off); // torn tail: its ack was never answered
      await fh.sync();
    }
    return { path, fh, size: off, acks, chain: Promise.resolve() };
  }
}

function header(): Buffer {
  const b = Buffer.alloc(kHeaderBytes);
  b.writeUInt32LE(kMagic, 0);
  b.writeUInt32LE(kAckLogVersion, 4);
  return b;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
