/**
 * Shard files, format 3: the lanes stored as a loaded shard holds them in memory, so an open reads, checks and
 * decrypts a file and does nothing else to it (issue 11: "opening a data dir of 20M reads ≤ 2 s").
 *
 * Format 2 (src/store/shard-format.ts) stores every lane at a file width (u32 ts offsets, i32 lat / lon, u16 or
 * u32 codes and postings, three label lanes …), and every open re-encoded each shard in its arena region: labels
 * packed, the camera lane by runs, ts / lat / lon as u24 offsets from per-run bases, plate and postings bit-packed,
 * seq from block or minute bases, confidence as codes (src/store/shard-reencode.ts). At 20M reads those passes
 * were ~1.1–1.5 s of the shard-open workers' ~2.5 s of CPU, plus ~0.4 s a worker of the passes' JIT warm-up, on
 * a 2-core box where the open is CPU-bound (bench/RESULTS.md, "Issue 11: where a 20M open's CPU goes"). Their
 * result depends only on the file, so format 3 runs them once, when the shard is written (the seal worker, the
 * bulk build thread, compaction and retention rewrites, the migration), and stores what they leave:
 *
 *   offset  bytes
 *   0       8      magic "PSSHARD\0"
 *   8       4      u32 format version (3)
 *   12      4      u32 H: bytes of the header JSON
 *   16      H      header JSON: format 2's { meta, blockRows, tsBase, seqBase, dicts, lanes } after the
 *                  re-encodings, so it may also hold the in-memory fields (`bases`, `seqBlocks`, `seqTime`,
 *                  `labelShared`), the in-memory lanes (labels, labelTriples, labelRuns, labelTable, cameraRuns,
 *                  cameraTable, confidenceValues) and the in-memory widths (3: u24; 0: bit-packed with `bits`)
 *   …              the lanes exactly as format 2's file was left by the re-encodings in place, from its first
 *                  lane to the end of its last (pads and the gaps the passes leave included), moved as a whole
 *                  by a multiple of 64 bytes to make room for the longer header: every lane keeps its place
 *                  modulo 64, so the bytes in an arena region are those the load-time passes made
 *
 * Each lane's form, its padding and why it is so is documented where the pass is (shard-labels.ts,
 * shard-cameras.ts, shard-u24.ts, seq-blocks.ts, shard-confidence.ts); readShardHeader checks a format 3 header as
 * it does a format 2 one (every lane inside the file, its width one of its forms', its size what the rows and width
 * make it) and that the in-memory fields and lanes come together (u24 lanes with their bases, u16 / u24 seq with
 * its bases, codes with their values, runs with their table).
 *
 * The knobs the passes read (labelLimits, plateU24Limit, packedLimit, confidenceLimits, seqTimeLimits) are
 * those of the writing thread: the defaults, as the tests that lower them at open set
 * PLATESEARCH_TEST_SHARD_FORMAT = 2, which keeps this build writing (and not migrating) format 2, whose lanes
 * are then re-encoded at each open under the opening thread's knobs, as before.
 */
import { CorruptFile } from '../errors.js';
import { kShardBuildVersion, kShardMagic, kShardVersion, ShardView, type ShardHeader, type ShardLane } from './shard-format.js';
import { reencodeLanes } from './shard-reencode.js';

const kPrefixBytes = 16;
const kLaneAlign = 64;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;
const enc = new TextEncoder();

/**
 * The format this process writes: kShardVersion (3), or 2 when PLATESEARCH_TEST_SHARD_FORMAT is "2" (tests that
 * lower the re-encodings' knobs at open; read by the seal and build threads, which are given this process's
 * environment). A data dir is migrated up to it, never past it.
 */
export function writtenShardFormat(): number {
  return process.env.PLATESEARCH_TEST_SHARD_FORMAT === String(kShardBuildVersion) ? kShardBuildVersion : kShardVersion;
}

/** `h` with every lane and in-memory table moved by `delta` bytes. */
function shifted(h: ShardHeader, delta: number): ShardHeader {
  const move = (l: ShardLane): ShardLane => ({ ...l, at: l.at + delta });
  const lanes: ShardHeader['lanes'] = {};
  for (const [name, l] of Object.entries(h.lanes) as Array<[keyof ShardHeader['lanes'], ShardLane]>) lanes[name] = move(l);
  const out: ShardHeader = { ...h, lanes };
  if (h.bases) out.bases = move(h.bases);
  if (h.seqBlocks) out.seqBlocks = move(h.seqBlocks);
  return out;
}

/**
 * The bytes to store for a shard built as format 2 (`built`, from writeShardFile): format 3 (see above), or `built`
 * itself when this process writes format 2. Re-encodes `built` in place and answers a view of its buffer when the
 * result fits there (a bulk build's pool buffer goes back to its pool by its buffer), else a new buffer. Throws
 * coded errors naming `file` when `built` is not a format 2 shard.
 */
export function storedShardBytes(built: Uint8Array, file = 'a shard being written'): Uint8Array {
  if (writtenShardFormat() === kShardBuildVersion) return built;
  let view = new ShardView(file, built);
  if (new DataView(view.bytes.buffer, view.bytes.byteOffset, kPrefixBytes).getUint32(8, true) !== kShardBuildVersion) {
    throw CorruptFile(`Shard is not of format ${kShardBuildVersion}, which is what is converted: ${file}`, { file });
  }
  const start = view.bytes;
  // where format 2 put its first lane (64-aligned, past the header: readShardHeader checked); the builder lays the
  // header out against wide placeholders, so there may be room between them that format 3 gives back
  const first = Math.min(...Object.values(view.header.lanes).map((l) => l.at));
  const lanes = reencodeLanes(view);
  if (lanes) view = new ShardView(file, start.subarray(0, lanes.bytes), lanes.header);
  const end = view.bytes.length;
  // the lanes move by `delta` (a multiple of 64) to where the new header ends: the least delta whose header fits
  // before them (a longer delta may lengthen the offsets' digits, so grow it until it fits; format 2's header was
  // laid out against wide placeholders, so the least may be below 0)
  const headerAt = (d: number) => enc.encode(JSON.stringify(shifted(view.header, d)));
  const fits = (d: number, json: Uint8Array) => roundUp(kPrefixBytes + json.length, kLaneAlign) <= first + d;
  let delta = 0;
  let json = headerAt(delta);
  while (!fits(delta, json)) json = headerAt((delta += kLaneAlign));
  while (delta - kLaneAlign >= kLaneAlign - first) {
    const lower = headerAt(delta - kLaneAlign);
    if (!fits(delta - kLaneAlign, lower)) break;
    delta -= kLaneAlign;
    json = lower;
  }
  const size = end + delta;
  // typed arrays' copyWithin is a memmove: safe for the lanes moving up or down within the buffer
  // (moved within `start`, whose length reaches `end`: a view cut to `size` would clamp the source when they move down)
  let out: Uint8Array;
  if (size <= start.length) {
    start.copyWithin(first + delta, first, end);
    out = start.subarray(0, size);
  } else {
    out = new Uint8Array(size);
    out.set(start.subarray(first, end), first + delta);
  }
  out.fill(0, 0, first + delta);
  out.set(enc.encode(kShardMagic), 0);
  const dv = new DataView(out.buffer, out.byteOffset, kPrefixBytes);
  dv.setUint32(8, kShardVersion, true);
  dv.setUint32(12, json.length, true);
  out.set(json, kPrefixBytes);
  return out;
}
