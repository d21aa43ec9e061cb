/**
 * The CPU of each way a query reads a code → id map (src/store/plate-id-lane.ts; docs/storage-v2.md, "The
 * Elias–Fano maps read through a cursor"), for the Elias–Fano form and the blocked one, on a map like bench:peers'
 * at 20M: a tenant-day shard holding one in eight of its tenant's plates (`--codes` of them, ids drawn from 8× as
 * many). Per form: 20,000 lower bounds at random values (findPlate, covered distances), 20,000 ids at random codes
 * (a hit's plate), the tenant pairs of a 10,000-entry hot list intersected with the map (pairsInShard), a gather of
 * every code (a broad pattern's covered distances), a walk over every code through the reader (the covered hot-list
 * probe) and one decoded a chunk at a time (`plateIdsInto`). Each the least of 7 rounds of process CPU (other processes' load
 * raises it less than wall time).
 *
 *   node dist/bench/plate-id-reads.js [--codes 400000] [--dist DIST]
 *
 * `--dist` is another build's dist/ (e.g. main's, before the cursor): its functions are measured instead; a build
 * without `idCursor` gets its pairsInShard called the old way (a reader and a count).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const { values } = parseArgs({ options: { codes: { type: 'string' }, dist: { type: 'string' } }, strict: true });
const dist = resolve(values.dist ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const lanes = (await import(`${dist}/src/store/plate-id-lane.js`)) as typeof import('../src/store/plate-id-lane.js');
const { pairsInShard } = (await import(`${dist}/src/query/shard-pairs.js`)) as { pairsInShard: (...a: unknown[]) => unknown };

let seed = 12345;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const n = Number(values.codes ?? 400_000), U = 8 * n;
const drawn = new Set<number>();
while (drawn.size < n) drawn.add(Math.floor(random() * U));
const ids = Uint32Array.from([...drawn].sort((a, b) => a - b));
const probes = Array.from({ length: 20_000 }, () => Math.floor(random() * U));
const codes = Array.from({ length: 20_000 }, () => Math.floor(random() * n));
const plates = Int32Array.from(Array.from({ length: 10_000 }, () => (random() < 0.5 ? ids[Math.floor(random() * n)]! : Math.floor(random() * U))).sort((a, b) => a - b));
const tenant = { entries: plates.map((_, q) => q), plates, distances: new Int32Array(plates.length) };

/** The least process CPU ms of 7 rounds of `run`. */
function cpuMs(run: () => unknown): number {
  let best = Infinity;
  for (let k = 0; k < 7; k++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

console.log(`dist ${dist}; ${n} codes, ids below ${U}`);
const kDefault = lanes.plateIdSpan.eliasFano;
for (const eliasFano of [true, false]) {
  lanes.plateIdSpan.eliasFano = eliasFano;
  const { width, bytes } = lanes.plateIdLayout(ids);
  const lane = lanes.writePlateIds(ids, new Uint8Array(new ArrayBuffer(bytes + 64), 0, bytes), width);
  const at = lanes.plateIdReader(lane);
  const byId = new Uint8Array(U + 1), out = new Uint8Array(n), chunk = new Uint32Array(1024);
  const figures: Array<[string, number]> = [
    ['lower bounds ×20k', cpuMs(() => probes.reduce((s, v) => s + lanes.idLowerBound(lane, at, v), 0))],
    ['ids at random codes ×20k', cpuMs(() => codes.reduce((s, d) => s + at(d), 0))],
    ['pairs of 10k entries', cpuMs(() => ('idCursor' in lanes ? pairsInShard(tenant, lanes.idCursor(lane)) : pairsInShard(tenant, at, n)))],
    ['gather of every code', cpuMs(() => lanes.gatherById(lane, 0, n, byId, out, 0))],
    ['every code through the reader', cpuMs(() => {
      const read = lanes.plateIdReader(lane);
      let s = 0;
      for (let d = 0; d < n; d++) s += read(d);
      return s;
    })],
  ];
  if ('plateIdsInto' in lanes) {
    figures.push(['every code, chunks of 1,024', cpuMs(() => {
      let s = 0;
      for (let d = 0; d < n; d += 1024) s += lanes.plateIdsInto(lane, d, chunk);
      return s;
    })]);
  }
  console.log(`${width === 0 ? 'Elias–Fano' : `width ${width}`} (${lane.bytes.length.toLocaleString('en-US')} B): ` +
    figures.map(([what, ms]) => `${what} ${ms.toFixed(2)} ms`).join('; '));
}
lanes.plateIdSpan.eliasFano = kDefault;
