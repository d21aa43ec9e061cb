/**
 * A loaded shard's in-memory re-encodings, in the order they must run, as one step: the region, make and color
 * lanes packed into a labels lane (src/store/shard-labels.ts), ts / lat / lon / plate / postings narrowed to u24
 * or (plate, postings) bit-packed at their exact width (src/store/shard-u24.ts), then seq as offsets from block bases (src/store/seq-blocks.ts),
 * then confidence as codes of its values (src/store/shard-confidence.ts). Each rewrites the
 * shard's arena region in place and answers the header after it; nothing here allocates a region.
 *
 * Where it runs: since format 3, once when a shard is written (src/store/shard-format-v3.ts: the seal worker, the
 * bulk build thread, rewrites, the migration), which stores what it leaves; for a format 2 file (an old data dir
 * until its migration, or tests that lower the knobs), at load as before: on the opening thread for a shard it
 * reads itself, and on a shard-open worker for a sealed shard that worker has just opened
 * (src/store/shard-open-worker.ts), which answers the header and byte count below. At 20M reads these passes were
 * ~1.2 s of the opening thread's ~1.4 s of CPU, the critical path of an open, while the workers sat idle
 * (docs/storage-v2.md, "The lanes re-encoded on the shard-open workers"); on the workers, ~1.1–1.5 s of their
 * ~2.5 s plus each isolate's warm-up ("Format 3: the lanes stored as they are loaded").
 */
import { compactSeqLane, seqTimeLimits } from './seq-blocks.js';
import { confidenceLimits, packConfidenceLane } from './shard-confidence.js';
import { packCameraLane } from './shard-cameras.js';
import { ShardView, type ShardHeader } from './shard-format.js';
import { labelLanesPacked, labelLimits, packLabelLanes } from './shard-labels.js';
import { narrowU24Lanes, packedLimit, plateU24Limit } from './shard-u24.js';

/** A shard's header after its re-encodings, and the bytes it needs from its start (what its region shrinks to). */
export interface ReencodedLanes {
  header: ShardHeader;
  bytes: number;
}

/** The knobs the re-encodings read (tests lower them), passed to a worker with each job: its own copies are not the caller's. */
export interface ReencodeLimits {
  labelTriples: number;
  labelRuns: boolean;
  labelShared: number;
  plateU24Codes: number;
  packedBits: number;
  confidenceBits: number;
  seqTime: { blockSpan: number; offset: number };
}

/** This thread's knobs, to send with a job. */
export function reencodeLimits(): ReencodeLimits {
  return { labelTriples: labelLimits.max, labelRuns: labelLimits.runs, labelShared: labelLimits.shared, plateU24Codes: plateU24Limit.codes, packedBits: packedLimit.bits, confidenceBits: confidenceLimits.bits, seqTime: { ...seqTimeLimits } };
}

/** Runs the re-encodings on `view` in place; undefined when none changed anything. */
export function reencodeLanes(view: ShardView): ReencodedLanes | undefined {
  const start = view.bytes;
  const labels = packLabelLanes(view);
  if (labels) view = new ShardView(view.file, start.subarray(0, labels.bytes), labels.header);
  const cameras = packCameraLane(view);
  if (cameras) view = new ShardView(view.file, start.subarray(0, cameras.bytes), cameras.header);
  const u24 = narrowU24Lanes(view);
  if (u24) view = new ShardView(view.file, start.subarray(0, u24.bytes), u24.header);
  const compact = compactSeqLane(view);
  if (compact) view = new ShardView(view.file, start.subarray(0, compact.bytes), compact.header);
  const confidence = packConfidenceLane(view);
  if (confidence) view = new ShardView(view.file, start.subarray(0, confidence.bytes), confidence.header);
  return labels || cameras || u24 || compact || confidence ? { header: view.header, bytes: view.bytes.length } : undefined;
}

/** What a worker answers for its re-encoding of a shard. */
export interface ReencodeAnswer {
  /** The header after the re-encodings; undefined when none changed anything. */
  lanes?: ReencodedLanes;
  /** Did the shard's labels get packed, or keep their three lanes (the caller's `labelLanesPacked`)? */
  packed: number;
  kept: number;
  /** Of those packed, held as runs. */
  runs: number;
}

/**
 * On a worker: re-encodes the opened shard of `plainBytes` at `ptr` in `memory` under the caller's `limits`.
 * Undefined when its header does not parse: nothing was written, and the caller parses it again, failing as
 * it always has (the same coded error from the same place).
 */
export function reencodeInWorker(
  file: string, memory: WebAssembly.Memory, ptr: number, plainBytes: number, limits: ReencodeLimits,
): ReencodeAnswer | undefined {
  let view: ShardView;
  try {
    view = new ShardView(file, new Uint8Array(memory.buffer, ptr, plainBytes));
  } catch {
    return undefined;
  }
  labelLimits.max = limits.labelTriples;
  labelLimits.runs = limits.labelRuns;
  labelLimits.shared = limits.labelShared;
  plateU24Limit.codes = limits.plateU24Codes;
  packedLimit.bits = limits.packedBits;
  confidenceLimits.bits = limits.confidenceBits;
  Object.assign(seqTimeLimits, limits.seqTime);
  const before = { ...labelLanesPacked };
  const lanes = reencodeLanes(view);
  const answer: ReencodeAnswer = {
    packed: labelLanesPacked.shards - before.shards, kept: labelLanesPacked.kept - before.kept, runs: labelLanesPacked.runs - before.runs,
  };
  if (lanes) answer.lanes = lanes;
  return answer;
}
