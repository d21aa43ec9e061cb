/**
 * `node dist/bench/analytics-quality.js [--reads N] [--seed S] [--plants K]`: how well the four analyses
 * find what they are meant to find, on `platesearch gen` data with known events planted into it, scored
 * against the plants (issue 14 "Quality"; docs/analytics.md "Measured quality").
 *
 * The events are planted by this script over gen's reads (an overlay with its own seeded PRNG), so gen's
 * output bytes for a seed stay exactly what they were:
 *   - convoys: for K target vehicles with ≥ 8 reads, a made-up companion plate read at the same camera
 *     (same place) within ±60 s of 80 % of the target's reads, by the target's tenant;
 *   - cloned plates: for K vehicles, one extra read of their plate 150–250 km from one of their reads,
 *     10–40 minutes later (300–1,500 km/h), by a random tenant;
 *   - frequent visitors: K made-up plates read 6–10 times each, on 3–6 distinct days, within 200 m of one
 *     busy camera.
 * Every analysis then runs in the engine over all tenants; "found" = the planted answer is listed,
 * "others" = what else is listed (gen's own traffic: commuters at the same cameras, misreads that turn
 * into another vehicle's plate). Reads are scored by plate, as the analyses answer by plate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openEngine } from '../src/engine/index.js';
import { generateReads, kDefaultTenants } from '../src/gen/index.js';
import type { ConvoyRow, FrequentRow, ClonedRow } from '../src/model/analytics.js';
import type { Read } from '../src/model/read.js';
import { BenchPrng } from './peers/prng.js';

const kMsPerDay = 86_400_000;
const kCoordScale = 1e7;

function madeUpPlate(prefix: string, i: number): string {
  return `${prefix}${i.toString(36).toUpperCase().padStart(4, '0')}`.slice(0, 8);
}

/** A point `km` away from (lat, lon) towards `bearing` radians (flat-earth step; exact distance not needed). */
function offset(lat: number, lon: number, km: number, bearing: number): { lat: number; lon: number } {
  const dLat = (km / 111.2) * Math.cos(bearing);
  const dLon = ((km / 111.2) * Math.sin(bearing)) / Math.cos((lat * Math.PI) / 180);
  return { lat: Math.max(-89, Math.min(89, lat + dLat)), lon: Math.max(-179.9, Math.min(179.9, lon + dLon)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reads: { type: 'string' }, seed: { type: 'string' }, plants: { type: 'string' } } });
  const readsN = Number(values.reads ?? 500_000);
  const seed = Number(values.seed ?? 1);
  const K = Number(values.plants ?? 50);
  const rng = new BenchPrng(seed ^ 0x14a7);
  const tenants = kDefaultTenants.slice(0, 3);
  const all: Array<{ tenant: string; read: Read }> = [];
  const byVehicle = new Map<number, number[]>();
  let misreads = 0;
  const misreadKeys = new Set<string>();
  for (const g of generateReads({ reads: readsN, seed, tenants, days: 28 })) {
    if (g.misread) misreadKeys.add(`${g.tenant}|${g.read.plate}|${g.read.ts}|${g.read.camera}`);
    g.read.lat = Math.round(g.read.lat * kCoordScale) / kCoordScale;
    g.read.lon = Math.round(g.read.lon * kCoordScale) / kCoordScale;
    if (g.misread) misreads++;
    else {
      const ix = byVehicle.get(g.vehicle);
      if (ix) ix.push(all.length);
      else byVehicle.set(g.vehicle, [all.length]);
    }
    all.push({ tenant: g.tenant, read: g.read });
  }
  const busy = [...byVehicle.entries()].filter(([, ix]) => ix.length >= 8).sort((a, b) => a[0] - b[0]);
  const pick = <T>(xs: readonly T[]): T => xs[rng.below(xs.length)]!;
  const shuffled = [...busy];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const convoyTargets = shuffled.slice(0, K);
  const cloneTargets = shuffled.slice(K, 2 * K);
  const planted: Array<{ tenant: string; read: Read }> = [];

  // convoys
  const companions = new Map<string, string>(); // target plate → companion plate
  convoyTargets.forEach(([, ix], n) => {
    const target = all[ix[0]!]!.read.plate;
    const companion = madeUpPlate('CV', n);
    companions.set(target, companion);
    for (const i of ix) {
      if (rng.below(100) >= 80) continue;
      const t = all[i]!;
      planted.push({ tenant: t.tenant, read: { ...t.read, plate: companion, ts: t.read.ts + rng.below(120_001) - 60_000 } });
    }
  });
  // cloned plates
  const cloned = new Set<string>();
  for (const [, ix] of cloneTargets) {
    const t = all[pick(ix)]!;
    const far = offset(t.read.lat, t.read.lon, 150 + rng.below(100), (rng.below(360) * Math.PI) / 180);
    cloned.add(t.read.plate);
    planted.push({ tenant: pick(tenants), read: { ...t.read, lat: Math.round(far.lat * kCoordScale) / kCoordScale, lon: Math.round(far.lon * kCoordScale) / kCoordScale, camera: `${t.read.camera}-far`, ts: t.read.ts + (10 + rng.below(31)) * 60_000 } });
  }
  // frequent visitors around the busiest camera
  const cameraCount = new Map<string, { n: number; lat: number; lon: number; tenant: string }>();
  for (const x of all) {
    const c = cameraCount.get(x.read.camera);
    if (c) c.n++;
    else cameraCount.set(x.read.camera, { n: 1, lat: x.read.lat, lon: x.read.lon, tenant: x.tenant });
  }
  const [spotCamera, spot] = [...cameraCount.entries()].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1))[0]!;
  const t0 = Math.min(...all.slice(0, 1000).map((x) => x.read.ts));
  const visitors = new Set<string>();
  for (let n = 0; n < K; n++) {
    const plate = madeUpPlate('FV', n);
    visitors.add(plate);
    const days = 3 + rng.below(4);
    const reads = 6 + rng.below(5);
    for (let r = 0; r < reads; r++) {
      const day = (r % days) * Math.floor(27 / days);
      const p = offset(spot.lat, spot.lon, rng.below(200) / 1000, (rng.below(360) * Math.PI) / 180);
      planted.push({ tenant: spot.tenant, read: { plate, ts: t0 + day * kMsPerDay + rng.below(kMsPerDay), lat: Math.round(p.lat * kCoordScale) / kCoordScale, lon: Math.round(p.lon * kCoordScale) / kCoordScale, camera: spotCamera } });
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'platesearch-quality-'));
  const engine = await openEngine({ dataDir: dir, threads: 2, sealAgeMs: 0 });
  try {
    const byTenant = new Map<string, Read[]>();
    for (const x of [...all, ...planted]) {
      const list = byTenant.get(x.tenant);
      if (list) list.push(x.read);
      else byTenant.set(x.tenant, [x.read]);
    }
    for (const [tenant, reads] of byTenant) for (let i = 0; i < reads.length; i += 100_000) await engine.append(tenant, reads.slice(i, i + 100_000));
    await engine.seal();
    const scopes = tenants.map((tenant) => ({ tenant, minTs: Number.MIN_SAFE_INTEGER }));
    const lines: string[] = [];
    const started = performance.now();

    // convoy: per target, is its companion listed, and what else is
    let found = 0, others = 0, firstRank = 0;
    for (const [target, companion] of companions) {
      const r = await engine.analytics(scopes, { kind: 'convoy', plate: target, windowSeconds: 120, minCameras: 3, filter: {}, limit: 10_000 });
      const rows = r.results as ConvoyRow[];
      const at = rows.findIndex((x) => x.plate === companion);
      if (at >= 0) found++;
      if (at === 0) firstRank++;
      others += rows.filter((x) => x.plate !== companion).length;
    }
    lines.push(`| convoy (120 s, ≥ 3 cameras) | ${K} targets | ${found} (${((100 * found) / K).toFixed(0)} %) | ${others} other plates over ${K} targets (${(others / K).toFixed(2)} per target); planted companion ranked first for ${firstRank} |`);

    // cloned: planted plates listed, and others
    const c = await engine.analytics(scopes, { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 10_000 });
    const cRows = c.results as ClonedRow[];
    const cFound = cRows.filter((x) => cloned.has(x.plate)).length;
    const viaMisread = cRows.filter((x) => !cloned.has(x.plate) && x.example.some((h) => misreadKeys.has(`${h.tenant}|${h.plate}|${h.ts}|${h.camera}`))).length;
    lines.push(`| cloned (> 250 km/h, ≥ 5 km) | ${cloned.size} plates | ${cFound} (${((100 * cFound) / cloned.size).toFixed(0)} %) | ${c.total - cFound} other plates; in ${viaMisread} of them the fastest pair holds a misread (gen's OCR errors turning one vehicle's plate into another's) |`);

    // frequent: planted visitors at the spot
    const f = await engine.analytics(scopes, { kind: 'frequent', filter: { near: { lat: spot.lat, lon: spot.lon, radiusM: 500 } }, minReads: 5, minDays: 3, limit: 10_000 });
    const fRows = f.results as FrequentRow[];
    const fFound = fRows.filter((x) => visitors.has(x.plate)).length;
    lines.push(`| frequent (500 m, ≥ 5 reads, ≥ 3 days) | ${visitors.size} visitors | ${fFound} (${((100 * fFound) / visitors.size).toFixed(0)} %) | ${f.total - fFound} other plates (gen's commuters and regulars at that camera) |`);

    process.stdout.write([
      `gen seed ${seed}, ${readsN.toLocaleString('en-US')} reads (${misreads.toLocaleString('en-US')} misreads), 3 tenants, 28 days; planted ${planted.length.toLocaleString('en-US')} reads; analyses ${((performance.now() - started) / 1000).toFixed(1)} s`,
      '',
      '| analysis | planted | found | also listed |',
      '| --- | ---: | ---: | --- |',
      ...lines,
      '',
    ].join('\n'));
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`analytics-quality: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
