/**
 * Encryption of append-only logs (the WAL, the alert log) per group-commit block, in *lanes*: one lane per
 * epoch set (a WAL lane per UTC day of the reads, an alert-log lane per read tenant and day), each with a
 * data key made for this file only, so that shredding one day's KEK makes exactly that day's blocks
 * unreadable in every copy of the file. Lanes travel inside the log's own records (its length + CRC
 * framing stays, for cheap torn-tail detection; the GCM tag is the integrity check):
 *
 *   key record    'K' lane:u16 count:u8 keyRef[count]        the lane's data key, wrapped under the KEK of
 *                                                           each epoch (two = joined: either one shreds it)
 *   block record  'B' lane:u16 counter:u32 ciphertext‖tag    nonce = counterNonce(lane, counter),
 *                                                           AAD = the 7 bytes before the ciphertext
 *
 * A lane's key record is written in the same group as (and before) its first block. Counters advance when a
 * block is encrypted, never when it becomes durable, so a failed and healed write never reuses a nonce; a
 * key record that did not become durable is written again before the next block of its lane. After a
 * crash the WAL's writer starts a new file, so new lanes and new keys (src/store/wal.ts); a writer that
 * appends to a file another process wrote (the alert log) numbers its lanes after the file's highest
 * (LaneReader.nextLane): a lane id names one key in a file, or a reader could not open the older blocks.
 */
import { jointKey, type DataKeys, type WrappedKey } from './data-keys.js';
import { counterNonce } from './aead.js';
import { aesGcm, type Cipher } from './cipher.js';
import { decodeKeyRef, encodeKeyRef } from './key-ref.js';
import { isKeyDestroyed } from './data-keys.js';

const kKeyRecord = 0x4b; // 'K'
const kBlockRecord = 0x42; // 'B'
const kBlockHeader = 7;
/** Lane ids are u16 in both record kinds. */
export const kMaxLaneId = 0xffff;

interface Lane {
  id: number;
  key: Buffer;
  refs: WrappedKey[];
  counter: number;
  /** The key record is durable in the file. */
  keyDurable: boolean;
  /** The key record is in the group being written. */
  keyPending: boolean;
}

export class LaneWriter {
  private readonly lanes = new Map<string, Lane>();

  /** `firstLane`: the id of this writer's first lane (the file's LaneReader.nextLane when appending to it). */
  constructor(private readonly keys: DataKeys, private readonly firstLane = 0) {}

  /**
   * Encrypts `plain` (chunks laid end to end) as one block of the lane named `laneName`, whose data key is
   * wrapped under the current KEK of each of `epochs`. Returns the record payloads to write, in order.
   */
  async encode(laneName: string, epochs: readonly string[], plain: readonly Uint8Array[]): Promise<Buffer[]> {
    let lane = this.lanes.get(laneName);
    const out: Buffer[] = [];
    if (!lane) {
      const parts: Buffer[] = [];
      const refs: WrappedKey[] = [];
      for (const epoch of epochs) {
        const k = await this.keys.newKey(epoch);
        parts.push(k.key);
        refs.push({ kek: k.kek, wrapped: k.wrapped });
      }
      const key = parts.length === 1 ? parts[0]! : jointKey(parts[0]!, parts[1]!);
      const id = this.firstLane + this.lanes.size;
      if (id > kMaxLaneId) throw new Error(`a log file holds at most ${kMaxLaneId + 1} lanes (rewrite it to renumber them)`);
      lane = { id, key, refs, counter: 0, keyDurable: false, keyPending: false };
      this.lanes.set(laneName, lane);

    }
    if (!lane.keyDurable && !lane.keyPending) {
      out.push(keyRecord(lane));
      lane.keyPending = true;
    }
    const head = Buffer.alloc(kBlockHeader);
    head[0] = kBlockRecord;
    head.writeUInt16LE(lane.id, 1);
    head.writeUInt32LE(lane.counter, 3);
    const sealed = this.keys.cipher.seal(lane.key, counterNonce(lane.id, lane.counter), plain, head);
    lane.counter++;
    out.push(Buffer.concat([head, sealed]));
    return out;
  }

  /** Everything encoded so far is durable. */
  durable(): void {
    for (const l of this.lanes.values()) if (l.keyPending) {
      l.keyPending = false;
      l.keyDurable = true;
    }
  }

  /** The group written since the last durable() failed and was cut off: its key records go again. */
  failed(): void {
    for (const l of this.lanes.values()) l.keyPending = false;
  }
}

function keyRecord(lane: Lane): Buffer {
  const head = Buffer.alloc(4);
  head[0] = kKeyRecord;
  head.writeUInt16LE(lane.id, 1);
  head[3] = lane.refs.length;
  return Buffer.concat([head, ...lane.refs.map(encodeKeyRef)]);
}

export type LaneRecord =
  | { kind: 'key' }
  | { kind: 'block'; plain: Buffer }
  /** The lane's KEK was destroyed: the block's data was shredded. */
  | { kind: 'shredded' }
  /** The record does not open (damage; never wrong data). */
  | { kind: 'corrupt'; reason: string };

/** Opens a wrapped key; throws KeyDestroyed when its KEK is gone. */
export type KeyOpener = (ref: WrappedKey) => Promise<Buffer>;

/** Reads the lanes of one file, record by record, in file order. */
export class LaneReader {
  private readonly lanes = new Map<number, Buffer | 'shredded' | 'broken'>();
  private highest = -1;
  /**
   * A lane id was given a second key in this file (appends by several processes before lane ids were
   * continued per file): blocks before that key record no longer open through this reader.
   */
  reusedLanes = false;

  /** `cipher`: the data keys' (AES-256-GCM; see src/crypto/cipher.ts). */
  constructor(private readonly open: KeyOpener, private readonly cipher: Cipher = aesGcm) {}

  async read(payload: Uint8Array): Promise<LaneRecord> {
    const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (b.length >= 4 && b[0] === kKeyRecord) {
      const lane = b.readUInt16LE(1);
      const count = b[3]!;
      const refs: WrappedKey[] = [];
      let off = 4;
      for (let i = 0; i < count; i++) {
        const r = decodeKeyRef(b, off);
        if (!r) return { kind: 'corrupt', reason: `key record of lane ${lane} is malformed` };
        refs.push(r.ref);
        off = r.end;
      }
      if (count < 1 || count > 2) return { kind: 'corrupt', reason: `key record of lane ${lane} has ${count} keys` };
      if (lane > this.highest) this.highest = lane;
      try {
        const parts: Buffer[] = [];
        for (const ref of refs) parts.push(await this.open(ref));
        const key = parts.length === 1 ? parts[0]! : jointKey(parts[0]!, parts[1]!);
        const had = this.lanes.get(lane);
        // the same key again is a key record rewritten after a failed group, not a second lane
        if (had !== undefined && !(had instanceof Buffer && had.equals(key))) this.reusedLanes = true;
        this.lanes.set(lane, key);
      } catch (err) {
        if (isKeyDestroyed(err)) {
          if (this.lanes.has(lane)) this.reusedLanes = true;
          this.lanes.set(lane, 'shredded');
        } else {
          this.lanes.set(lane, 'broken');
          throw err;
        }
      }
      return { kind: 'key' };
    }
    if (b.length >= kBlockHeader && b[0] === kBlockRecord) {
      const lane = b.readUInt16LE(1);
      const counter = b.readUInt32LE(3);
      const key = this.lanes.get(lane);
      if (key === 'shredded') return { kind: 'shredded' };
      if (key === undefined || key === 'broken') return { kind: 'corrupt', reason: `block of lane ${lane} has no key record before it` };
      const plain = this.cipher.open(key, counterNonce(lane, counter), b.subarray(kBlockHeader), b.subarray(0, kBlockHeader));
      if (!plain) return { kind: 'corrupt', reason: `block ${counter} of lane ${lane} fails authentication` };
      return { kind: 'block', plain };
    }
    return { kind: 'corrupt', reason: 'record of unknown type' };
  }

  /** One past the highest lane id of the key records read so far: where a writer appending to the file starts. */
  get nextLane(): number {
    return this.highest + 1;
  }
}

/** Frames payloads inside a block's plaintext: len:u32 LE ‖ payload, repeated. */
export function packBlock(payloads: readonly Uint8Array[]): Buffer[] {
  const out: Buffer[] = [];
  for (const p of payloads) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(p.length, 0);
    out.push(len, Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  }
  return out;
}

/** The payloads of a block's plaintext; undefined when it is malformed. */
export function unpackBlock(plain: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let off = 0;
  while (off < plain.length) {
    if (off + 4 > plain.length) return undefined;
    const len = plain.readUInt32LE(off);
    if (off + 4 + len > plain.length) return undefined;
    out.push(plain.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}
