/**
 * Writes a generated data set as NDJSON (one read a line, with its `tenant`) and its truth file,
 * `FILE.truth.json`, both streamed with backpressure: memory stays flat however many reads.
 *
 * Truth file layout (one JSON document, misreads one per line so that it also greps well):
 *   {"format":"platesearch-gen-truth","version":1,"reads":N,"seed":S,"options":{…},"misreads":[
 *   {"line":12,"tenant":"pd-metro","plate":"7ABC1Z3","truePlate":"7ABC123","kind":"confusable","edits":1},
 *   …
 *   ],"counts":{"confusable":…,"total":…},"fleet":{"vehicles":…,"commuters":…,…}}
 * `line` is the 0-based line of the misread in the NDJSON file.
 */
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { formatTimestamp } from '../model/time.js';
import { ReadGenerator } from './generator.js';
import type { MisreadKind } from './ocr-errors.js';
import type { GenOptions } from './options.js';
import { ProgressBar } from './progress.js';
import { LineEncoder } from './line-encoder.js';
import { NdjsonLines } from './ndjson-lines.js';

/** Version of the truth file layout; bump on any change a reader would notice. */
export const kTruthVersion = 1;
// Bytes of NDJSON gathered before one write: big enough to make write() calls rare, small enough to stay in cache.
const kFlushBytes = 1 << 20;
// Longest line: 64-character tenant and camera, 10-character plate, long labels; generous.
const kMaxLineBytes = 1024;

export interface WriteOptions {
  /** Draw a progress bar on stderr if it is a terminal (default true). */
  progress?: boolean;
}

export interface WriteSummary {
  reads: number;
  misreads: Record<MisreadKind | 'total', number>;
  vehicles: number;
  commuters: number;
  bytes: number;
}

/** Writes `s` and waits for `drain` when the stream asks for it; rejects on a stream error. */
async function write(stream: Writable, s: string | Uint8Array): Promise<void> {
  if (!stream.write(s)) await once(stream, 'drain');
}

async function close(stream: Writable): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

/**
 * Generates the data set of `options` into `outPath` and `outPath + '.truth.json'`.
 * Both files are opened before any work, so an unwritable path fails at once.
 */
export async function writeDataset(
  options: Partial<GenOptions> & { reads: number; seed: number },
  outPath: string,
  writeOptions: WriteOptions = {},
): Promise<WriteSummary> {
  const gen = new ReadGenerator(options);
  const truthPath = `${outPath}.truth.json`;
  const dataHandle = await open(outPath, 'w');
  let truthHandle;
  try {
    truthHandle = await open(truthPath, 'w');
  } catch (err) {
    await dataHandle.close();
    throw err;
  }
  const data = dataHandle.createWriteStream();
  const truth = truthHandle.createWriteStream();
  let failure: unknown;
  const onError = (err: unknown) => { failure ??= err; };
  data.on('error', onError);
  truth.on('error', onError);

  const o = gen.options;
  const header = {
    format: 'platesearch-gen-truth',
    version: kTruthVersion,
    reads: o.reads,
    seed: o.seed,
    options: { ...o, start: formatTimestamp(o.start) },
  };
  await write(truth, JSON.stringify(header).slice(0, -1) + ',"misreads":[\n');

  const { cameras } = gen.geography;
  const { fleet } = gen;
  const lines = new NdjsonLines(gen);
  const progress = new ProgressBar(o.reads, process.stderr);
  const showProgress = writeOptions.progress !== false;
  const enc = new LineEncoder(kFlushBytes + kMaxLineBytes);
  let bytes = 0;
  const flush = async () => {
    bytes += enc.pos;
    await write(data, enc.take());
    const entries = lines.takeTruth();
    if (entries.length > 0) await write(truth, entries);
    if (failure) throw failure;
  };

  try {
    for (const chunk of gen.chunks()) {
      for (let i = 0; i < chunk.count; ) {
        i = lines.encode(chunk, i, enc, kFlushBytes);
        if (enc.pos >= kFlushBytes) {
          await flush();
          if (showProgress) progress.update(chunk.first + i);
        }
      }
    }
    await flush();
    const footer = {
      counts: lines.counts,
      fleet: {
        vehicles: fleet.size,
        commuters: fleet.commuters,
        frequent: fleet.frequent,
        regular: fleet.regular,
        occasional: fleet.size - fleet.commuters - fleet.frequent - fleet.regular,
        fixedCameras: cameras.filter((c) => !c.mobile).length,
        mobileCameras: cameras.filter((c) => c.mobile).length,
      },
    };
    await write(truth, '\n],' + JSON.stringify(footer).slice(1) + '\n');
    await Promise.all([close(data), close(truth)]);
    if (failure) throw failure;
  } catch (err) {
    data.destroy();
    truth.destroy();
    throw err;
  } finally {
    if (showProgress) progress.update(o.reads);
    if (showProgress) progress.finish();
  }
  return { reads: o.reads, misreads: lines.counts, vehicles: fleet.size, commuters: fleet.commuters, bytes };
}
