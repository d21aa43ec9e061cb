/**
 * `--keep` and `--reuse DIR` (bench/peers.ts): a kept run's dir holds the engine's data and DuckDB's database,
 * so a later run can query them again without the ~5 minutes of loads at 20M reads. The data sample the query
 * set is drawn from is not kept: the generator is deterministic for its options, so it is regenerated (reads
 * sampled, not loaded). A dir made with other generator options would give queries the data does not answer
 * alike, so the options are written next to the data (`kReuseFile`) and a dir whose options differ, or that
 * has none, is refused.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSample } from './data-sample.js';
import type { SourceRead } from './engine-peer.js';
import type { PeersOptions } from './options.js';

export const kReuseFile = 'peers-options.json';

/** The options that decide the generated data. */
type DataOptions = Pick<PeersOptions, 'reads' | 'seed' | 'tenants' | 'days'>;

function dataOptions(o: DataOptions): DataOptions {
  return { reads: o.reads, seed: o.seed, tenants: o.tenants, days: o.days };
}

/** Records in a kept dir the options its data was generated with. */
export function writeReuseOptions(dir: string, o: DataOptions): void {
  writeFileSync(join(dir, kReuseFile), JSON.stringify(dataOptions(o)) + '\n');
}

/** Throws unless `dir` is a kept dir whose data was generated with the options of `o`. */
export function checkReusable(dir: string, o: DataOptions): void {
  const file = join(dir, kReuseFile);
  if (!existsSync(file)) throw new Error(`--reuse ${dir}: no ${kReuseFile} (not a dir kept by --keep)`);
  if (!existsSync(join(dir, 'engine')) || !existsSync(join(dir, 'peers.duckdb'))) throw new Error(`--reuse ${dir}: no engine dir or peers.duckdb`);
  const kept = JSON.parse(readFileSync(file, 'utf8')) as DataOptions;
  const want = dataOptions(o);
  const differ = (Object.keys(want) as Array<keyof DataOptions>).filter((k) => kept[k] !== want[k]);
  if (differ.length > 0) {
    throw new Error(`--reuse ${dir}: made with other options: ${differ.map((k) => `--${k} ${kept[k]} (here ${want[k]})`).join(', ')}`);
  }
}

/** One generated read as the load sees it: coordinates at the stored precision, then sampled (or counted, if heavy). */
export function sampleRead(g: SourceRead, sample: DataSample): void {
  const read = g.read;
  read.lat = Math.round(read.lat * kCoordScale) / kCoordScale;
  read.lon = Math.round(read.lon * kCoordScale) / kCoordScale;
  if (g.heavy) sample.count1(g.tenant, read);
  else sample.add(g.tenant, read, g.misread !== undefined, g.vehicle);
}

/** Fixed-point scale of the engine's stored coordinates (src/core/segment.ts): every peer gets the stored value. */
const kCoordScale = 1e7;
