/**
 * Writes a generated data set as NDJSON (one read a line, with its `tenant`) and its truth file,
 * `FILE.truth.json`, both streamed with backpressure: memory stays flat however many reads.
 *
 * Truth file layout (one JSON document, misreads one per line so that it also greps well):
 *   {"format":"platesearch-gen-truth","version":1,"reads":N,"seed":S,"options":{…},"misreads":[
 *   {"line":12,"tenant":"pd-metro","plate":"7ABC1Z3","truePlate":"7ABC123","kind":"confusable","edits":1},
 *   …
 *   ],"counts":{"confusable":…,"total":…},"fleet":{"vehicles":…,"commuters":…,…},
 *   "planted":{"convoys":[…],"clonedPlates":[…],"frequentVisitors":[…],"incidentSeries":[…],"seriesDecoys":[…]}}
 * `line` is the 0-based line of the misread in the NDJSON file. `planted` (version 2 on) lists the patterns
 * planted for the investigative analyses (src/gen/plants.ts), each with the lines of its reads:
 *   convoys          {leader, follower, gapSeconds, from, to, reads, days, first, last, lines}: the follower's reads
 *   clonedPlates     {plate, region, twinCity, twinCameras, from, to, reads, days, first, last, lines}: the twin's reads
 *   frequentVisitors {plate, camera, tenant, lat, lon, reads, days, first, last, lines}
 *   incidentSeries   {plate, incidents: [{camera, tenant, lat, lon, at}], reads, days, first, last, lines}: the offender's reads
 *   seriesDecoys     {plate, series, incidents: [index…], reads, days, first, last, lines}: a decoy's reads
 * (incidentSeries and seriesDecoys came later within version 2: a reader takes them as empty when absent.)
 * (`days`: distinct UTC days of those reads; `from`/`to`: the plant's span of days, local midnights in UTC.)
 *
 * Two threads when the machine has two cores: this one generates (the generator is sequential: one
 * random stream, time order) and hands column batches to an encoding thread (encode-worker.ts), which
 * turns them into lines and writes the data file; truth entries come back in batch order and are
 * written here. Generating costs somewhat more than encoding (≈ 0.4 against 0.3 µs a read on the 2-core
 * EPYC), so the generating thread sets the pace: 10M reads in ~7 s on a quiet machine, ~1.4M reads/s.
 * The bytes are the same as with one thread (a test compares them).
 */
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { formatTimestamp } from '../model/time.js';
import { ReadGenerator } from './generator.js';
import type { MisreadKind } from './ocr-errors.js';
import { resolveOptions, type GenOptions } from './options.js';
import { ProgressBar } from './progress.js';
import { EncoderThread } from './encoder-thread.js';
import { LineEncoder } from './line-encoder.js';
import { lineTables, NdjsonLines } from './ndjson-lines.js';

/** Version of the truth file layout; bump on any change a reader would notice. */
export const kTruthVersion = 2;
// Bytes of NDJSON gathered before one write: big enough to make write() calls rare, small enough to stay in cache.
const kFlushBytes = 1 << 20;
// Longest line: 64-character tenant and camera, 10-character plate, long labels; generous.
const kMaxLineBytes = 1024;

export interface WriteOptions {
  /** Draw a progress bar on stderr if it is a terminal (default true). */
  progress?: boolean;
  /** Encode and write on a second thread (default: when the machine has more than one core). Same bytes. */
  encoderThread?: boolean;
}

export interface WriteSummary {
  reads: number;
  misreads: Record<MisreadKind | 'total', number>;
  vehicles: number;
  commuters: number;
  /** Patterns planted (plants.ts), as listed in the truth file. */
  planted: { convoys: number; clonedPlates: number; frequentVisitors: number; incidentSeries: number };
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

/** What the encoding strategies report back to writeDataset, as they go. */
export interface EncodeSink {
  /** Truth entries of the reads encoded so far (comma-separated, in line order). */
  truth(entries: string): Promise<void>;
  /** Reads written so far. */
  progress(reads: number): void;
}

export interface Encoded {
  counts: NdjsonLines['counts'];
  bytes: number;
}

/** One thread: generate, encode and write in turn. */
async function encodeHere(gen: ReadGenerator, dataHandle: FileHandle, sink: EncodeSink): Promise<Encoded> {
  const data = dataHandle.createWriteStream();
  let failure: unknown;
  data.on('error', (err) => { failure ??= err; });
  const lines = new NdjsonLines(lineTables(gen));
  const enc = new LineEncoder(kFlushBytes + kMaxLineBytes);
  let bytes = 0;
  const flush = async () => {
    bytes += enc.pos;
    await write(data, enc.take());
    const entries = lines.takeTruth();
    if (entries.length > 0) await sink.truth(entries);
    if (failure) throw failure;
  };
  try {
    for (const chunk of gen.chunks()) {
      for (let i = 0; i < chunk.count; ) {
        i = lines.encode(chunk, i, enc, kFlushBytes);
        if (enc.pos >= kFlushBytes) {
          await flush();
          sink.progress(chunk.first + i);
        }
      }
    }
    await flush();
    await close(data);
    if (failure) throw failure;
  } catch (err) {
    data.destroy();
    throw err;
  }
  return { counts: lines.counts, bytes };
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
  const resolved = resolveOptions(options);
  const truthPath = `${outPath}.truth.json`;
  const dataHandle = await open(outPath, 'w');
  let truthHandle;
  try {
    truthHandle = await open(truthPath, 'w');
  } catch (err) {
    await dataHandle.close();
    throw err;
  }
  // the encoding thread starts (loads its modules) while this one builds the generator
  const encoder = (writeOptions.encoderThread ?? availableParallelism() > 1) ? new EncoderThread(dataHandle.fd, kFlushBytes, kMaxLineBytes) : undefined;
  let gen: ReadGenerator;
  try {
    gen = new ReadGenerator(resolved);
  } catch (err) {
    await encoder?.stop();
    await Promise.all([dataHandle.close(), truthHandle.close()]);
    throw err;
  }
  const truth = truthHandle.createWriteStream();
  let failure: unknown;
  truth.on('error', (err) => { failure ??= err; });

  const o = gen.options;
  const header = {
    format: 'platesearch-gen-truth',
    version: kTruthVersion,
    reads: o.reads,
    seed: o.seed,
    options: { ...o, start: formatTimestamp(o.start) },
  };
  const progress = new ProgressBar(o.reads, process.stderr);
  const showProgress = writeOptions.progress !== false;
  const sink: EncodeSink = {
    truth: async (entries) => {
      await write(truth, entries);
      if (failure) throw failure;
    },
    progress: (reads) => { if (showProgress) progress.update(reads); },
  };

  let encoded: Encoded;
  try {
    await sink.truth(JSON.stringify(header).slice(0, -1) + ',"misreads":[\n');
    encoded = await (encoder ? encoder.run(gen, sink) : encodeHere(gen, dataHandle, sink));
    const { cameras } = gen.geography;
    const { fleet } = gen;
    const footer = {
      counts: encoded.counts,
      fleet: {
        vehicles: fleet.background,
        commuters: fleet.commuters,
        frequent: fleet.frequent,
        regular: fleet.regular,
        occasional: fleet.background - fleet.commuters - fleet.frequent - fleet.regular,
        planted: fleet.size - fleet.background,
        fixedCameras: cameras.filter((c) => !c.mobile).length,
        mobileCameras: cameras.filter((c) => c.mobile).length,
      },
      planted: gen.plants.truth(),
    };
    await sink.truth('\n],' + JSON.stringify(footer).slice(1) + '\n');
    await close(truth);
    if (failure) throw failure;
  } catch (err) {
    truth.destroy();
    throw err;
  } finally {
    await encoder?.stop();
    // the write stream of encodeHere closed it already; the encoding thread wrote through the descriptor
    await dataHandle.close().catch(() => {});
    if (showProgress) progress.update(o.reads);
    if (showProgress) progress.finish();
  }
  return { reads: o.reads, misreads: encoded.counts, vehicles: gen.fleet.background, commuters: gen.fleet.commuters,
    planted: { convoys: gen.plants.convoys.length, clonedPlates: gen.plants.clones.length, frequentVisitors: gen.plants.visitors.length, incidentSeries: gen.plants.series.length },
    bytes: encoded.bytes };
}
