/**
 * Sealed files: a whole immutable file (a shard, a hot list) encrypted in fixed-size authenticated
 * segments under its own data key, so a reader checks every byte and can decrypt segments in parallel.
 *
 *   header (32 B + keyRef)
 *     "PSSEAL" 0x00 version:u8      8 B   version 1
 *     kind:u8  0:u8 keyRefLen:u16   4 B   kind: 1 shard, 2 hot list, 3 legal holds, 4 approvals; keyRef follows
 *     segmentBytes:u32              4 B   plaintext bytes per segment (the last may be shorter)
 *     plainBytes:f64                8 B   total plaintext bytes (exact integer)
 *     fileId:8 B                          random: binds the segments to this header
 *     keyRef[keyRefLen]                   optional inline wrapped key (src/crypto/key-ref.ts), e.g. hot lists
 *   segment i = ciphertext[min(segmentBytes, rest)] ‖ tag[16]
 *     nonce = counterNonce(0, i);  AAD = header ‖ i:u32 ‖ last:u8
 *
 * The header is authenticated by every segment's AAD; the segment count follows from plainBytes, so a
 * truncated file, a missing or repeated segment, a reordered pair or a flipped bit each fail with a coded
 * error naming the file. An empty file is one empty segment (a tag).
 */
import { randomBytes } from 'node:crypto';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import { counterNonce, kTagBytes } from './aead.js';
import { aesGcm, type Cipher } from './cipher.js';

export const kSealedVersion = 1;
export const kSealedHeaderBytes = 32;
const kMagic = Buffer.from('PSSEAL\0', 'latin1');
// 1 MiB: AES-GCM in node:crypto runs at full speed well below this, and a shard is a few segments per arena page run
export const kSegmentBytes = 1 << 20;

export const kSealedKindShard = 1;
export const kSealedKindHotlist = 2;
export const kSealedKindHolds = 3;
export const kSealedKindApprovals = 4;

export interface SealedHeader {
  kind: number;
  segmentBytes: number;
  plainBytes: number;
  keyRef: Buffer;
  /** The header bytes as stored (AAD of every segment). */
  raw: Buffer;
  /** Where the first segment starts. */
  bodyOffset: number;
}

export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= 7 && Buffer.from(bytes.buffer, bytes.byteOffset, 7).equals(kMagic);
}

function segmentCount(plainBytes: number, segmentBytes: number): number {
  return Math.max(1, Math.ceil(plainBytes / segmentBytes));
}

/** The stored size of `plainBytes` sealed with `keyRefLen` bytes of inline key. */
export function sealedSize(plainBytes: number, keyRefLen = 0, segmentBytes = kSegmentBytes): number {
  return kSealedHeaderBytes + keyRefLen + plainBytes + segmentCount(plainBytes, segmentBytes) * kTagBytes;
}

function segAad(header: Buffer, i: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(i, 0);
  tail[4] = last ? 1 : 0;
  return Buffer.concat([header, tail]);
}

/**
 * Seals `plain` under `key` with `cipher` (the data keys' cipher: AES-256-GCM); returns the file's chunks. With
 * `into` (at least sealedSize bytes; a bulk load's reused buffer), the file is laid out in it and is its one chunk.
 */
export function sealFile(kind: number, key: Uint8Array, plain: Uint8Array, keyRef: Uint8Array = Buffer.alloc(0), segmentBytes = kSegmentBytes, cipher: Cipher = aesGcm, into?: Uint8Array): Buffer[] {
  const header = Buffer.alloc(kSealedHeaderBytes + keyRef.length);
  kMagic.copy(header, 0);
  header[7] = kSealedVersion;
  header[8] = kind;
  header.writeUInt16LE(keyRef.length, 10);
  header.writeUInt32LE(segmentBytes, 12);
  header.writeDoubleLE(plain.length, 16);
  randomBytes(8).copy(header, 24);
  header.set(keyRef, kSealedHeaderBytes);
  const n = segmentCount(plain.length, segmentBytes);
  if (into) return [sealFileInto(header, key, plain, segmentBytes, n, cipher, into)];
  const out: Buffer[] = [header];
  for (let i = 0; i < n; i++) {
    const part = plain.subarray(i * segmentBytes, Math.min(plain.length, (i + 1) * segmentBytes));
    out.push(cipher.seal(key, counterNonce(0, i), part, segAad(header, i, i === n - 1)));
  }
  return out;
}

/** The sealed file of sealFile laid out in `into`: header, then each segment's ciphertext ‖ tag. */
function sealFileInto(header: Buffer, key: Uint8Array, plain: Uint8Array, segmentBytes: number, n: number, cipher: Cipher, into: Uint8Array): Buffer {
  const out = Buffer.from(into.buffer, into.byteOffset, into.byteLength);
  let w = header.copy(out, 0);
  for (let i = 0; i < n; i++) {
    const part = plain.subarray(i * segmentBytes, Math.min(plain.length, (i + 1) * segmentBytes));
    const aad = segAad(header, i, i === n - 1);
    if (cipher.sealInto) w += cipher.sealInto(key, counterNonce(0, i), part, aad, out, w);
    else w += cipher.seal(key, counterNonce(0, i), part, aad).copy(out, w);
  }
  return out.subarray(0, w);
}

/** Reads and checks a sealed file's header. */
export function readSealedHeader(file: string, bytes: Uint8Array): SealedHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < kSealedHeaderBytes || !buf.subarray(0, 7).equals(kMagic)) throw CorruptFile(`Not a sealed platesearch file: ${file}`, { file });
  if (buf[7] !== kSealedVersion) throw UnsupportedFormat(`Sealed file version ${buf[7]} is not supported: ${file}`, { file });
  const keyRefLen = buf.readUInt16LE(10);
  const segmentBytes = buf.readUInt32LE(12);
  const plainBytes = buf.readDoubleLE(16);
  if (segmentBytes === 0 || !Number.isSafeInteger(plainBytes) || plainBytes < 0 || buf.length < kSealedHeaderBytes + keyRefLen) {
    throw CorruptFile(`Sealed file header is damaged: ${file}`, { file });
  }
  const raw = Buffer.from(buf.subarray(0, kSealedHeaderBytes + keyRefLen));
  return { kind: buf[8]!, segmentBytes, plainBytes, keyRef: raw.subarray(kSealedHeaderBytes), raw, bodyOffset: raw.length };
}

/**
 * Opens a sealed file into `dest` at `at` (or a new buffer). Every segment must authenticate, in order,
 * and the file must end after the last one; else a coded error naming the file and segment.
 *
 * In place: `bytes` may be `dest` itself from `at` on (the shard loader reads a file into its arena region
 * and opens it there). Segment i's plaintext goes to at + i·segmentBytes, before its ciphertext (at +
 * header + i·(segmentBytes + tag)), and each piece is decrypted before its output is written, so no byte is
 * overwritten before it was read; the header is copied first and the tag is taken before the segment.
 */
export function openSealedFile(file: string, bytes: Uint8Array, key: Uint8Array, dest?: Uint8Array, at = 0, cipher: Cipher = aesGcm): { header: SealedHeader; plain: Uint8Array } {
  const header = readSealedHeader(file, bytes);
  const n = segmentCount(header.plainBytes, header.segmentBytes);
  const expect = header.bodyOffset + header.plainBytes + n * kTagBytes;
  if (bytes.length !== expect) {
    throw CorruptFile(`Sealed file is ${bytes.length} bytes, its header says ${expect} (truncated or extended): ${file}`, { file });
  }
  const out = dest ?? Buffer.allocUnsafe(header.plainBytes);
  const base = dest ? at : 0;
  let off = header.bodyOffset;
  for (let i = 0; i < n; i++) {
    const len = Math.min(header.segmentBytes, header.plainBytes - i * header.segmentBytes);
    const seg = bytes.subarray(off, off + len + kTagBytes);
    // straight into the destination: no buffer per segment (see aead.ts openInto); on failure the caller
    // gets the error and discards the destination
    if (!cipher.openInto(key, counterNonce(0, i), seg, segAad(header.raw, i, i === n - 1), out, base + i * header.segmentBytes)) {
      throw CorruptFile(`Segment ${i} of ${file} fails authentication (damaged, reordered or the wrong key)`, { file, segment: i });
    }
    off += len + kTagBytes;
  }
  return { header, plain: dest ? out.subarray(at, at + header.plainBytes) : out };
}
