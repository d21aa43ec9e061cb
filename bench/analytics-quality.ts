/**
 * `node dist/bench/analytics-quality.js [--reads N] [--seed S] [--days D]`: how well the investigative
 * analyses find what they are meant to find, scored against `platesearch gen`'s truth file (issue 14
 * "Quality"; docs/analytics.md "Measured quality"), as bench/match-quality.ts scores plate matching.
 *
 * gen plants the events itself (src/gen/plants.ts) and lists them with the lines of their reads in
 * FILE.truth.json: convoys (a follower 3–20 s behind a commuter on every commute of 5–10 days), cloned
 * plates (a commuter's plate on a second vehicle driving in a city ≥ 30 km away at the same hours, on 3–6
 * days), frequent visitors (a vehicle read 1–3 times at one camera on each of 4–8 days) and incident series
 * (an offender passing the cameras of 3–4 incidents within 40 minutes of each, and two decoys per series
 * passing all of them but one). This script
 * writes the data set with gen's own writer, loads every line into the engine (three agencies, all in
 * scope), and asks each analysis the question an investigator would:
 *   - convoy: for each planted leader, its companions (120 s; at ≥ 2 and ≥ 3 cameras); found = the follower
 *     is listed, and as the first companion; also listed = other plates. A control asks the same of as
 *     many busy plates that lead no convoy: anything listed for them is a false alarm;
 *   - cloned: the whole span (> 250 km/h, ≥ 5 km); found = the planted plate is listed; also listed = other
 *     plates, each explained from the truth (a misread in the fastest pair, or not);
 *   - frequent: for each visitor, ≥ 5 reads on ≥ 3 days within 500 m of its camera; found = listed; also
 *     listed = the other vehicles that return there as often (gen's commuters, taxis, residents);
 *   - multi-site: for each series, its incidents as sites (500 m of the incident's camera, ± 1 h of its
 *     time), at all sites and at all but one; found = the offender is listed (and first); also listed = the
 *     series' decoys (never at all sites; at all but one, they should be) and other plates (coincidences).
 * "Expected" counts the plants whose reads, as emitted (after misreads and missed captures), meet the
 * analysis' rule: what an exact analysis must find. Reads are matched to lines by the ids the engine gives.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openEngine } from '../src/engine/index.js';
import { kDefaultTenants, writeDataset, type PlantedTruth } from '../src/gen/index.js';
import type { ClonedRow, ConvoyRow, FrequentRow, MultisiteRow } from '../src/model/analytics.js';
import type { Read } from '../src/model/read.js';
import { haversineM } from '../src/query/reference/geo.js';

const kMsPerDay = 86_400_000;

interface Line extends Read {
  tenant: string;
}

function pct(a: number, b: number): string {
  return b === 0 ? '–' : `${((100 * a) / b).toFixed(0)} %`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reads: { type: 'string' }, seed: { type: 'string' }, days: { type: 'string' } } });
  const readsN = Number(values.reads ?? 500_000);
  const seed = Number(values.seed ?? 1);
  const days = Number(values.days ?? 28);
  const tenants = kDefaultTenants.slice(0, 3);
  const dir = mkdtempSync(join(tmpdir(), 'platesearch-aquality-'));
  const file = join(dir, 'reads.ndjson');
  const engine = await openEngine({ dataDir: join(dir, 'engine'), threads: 2, sealAgeMs: 0 });
  try {
    const summary = await writeDataset({ reads: readsN, seed, tenants, days }, file, { progress: false });
    const lines: Line[] = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => {
      const x = JSON.parse(l) as Line & { ts: string };
      return { ...x, ts: Date.parse(x.ts) };
    });
    const truth = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8')) as {
      misreads: Array<{ line: number; plate: string; truePlate: string }>;
      planted: PlantedTruth;
    };
    const misread = new Map(truth.misreads.map((m) => [m.line, m]));

    // load per tenant in line order; id → line
    const lineOfId = new Map<string, number>();
    const byTenant = new Map<string, number[]>();
    lines.forEach((x, i) => {
      const list = byTenant.get(x.tenant);
      if (list) list.push(i);
      else byTenant.set(x.tenant, [i]);
    });
    for (const [tenant, ix] of byTenant) {
      for (let i = 0; i < ix.length; i += 100_000) {
        const part = ix.slice(i, i + 100_000);
        const { stored } = await engine.append(tenant, part.map((k) => {
          const { tenant: _t, ...read } = lines[k]!;
          return read;
        }));
        stored.forEach((s, j) => lineOfId.set(s.id, part[j]!));
      }
    }
    await engine.seal();
    const scopes = tenants.map((tenant) => ({ tenant, minTs: Number.MIN_SAFE_INTEGER }));
    const started = performance.now();
    const out: string[] = [];
    const p = truth.planted;

    // ---- convoy
    const correctCameras = (ls: number[]) => new Set(ls.filter((l) => !misread.has(l)).map((l) => lines[l]!.camera)).size;
    const convoyRows: string[] = [];
    for (const minCameras of [2, 3]) {
      let expected = 0, found = 0, first = 0, others = 0, targetsWithOthers = 0;
      for (const c of p.convoys) {
        if (correctCameras(c.lines) >= minCameras) expected++;
        const r = await engine.analytics(scopes, { kind: 'convoy', plate: c.leader, windowSeconds: 120, minCameras, filter: {}, limit: 10_000 });
        const rows = r.results as ConvoyRow[];
        const at = rows.findIndex((x) => x.plate === c.follower);
        if (at >= 0) found++;
        if (at === 0) first++;
        const o = rows.filter((x) => x.plate !== c.follower).length;
        others += o;
        if (o > 0) targetsWithOthers++;
      }
      convoyRows.push(`| convoy, 120 s, ≥ ${minCameras} cameras | ${p.convoys.length} | ${expected} | ${found} (${pct(found, p.convoys.length)}; ${pct(found, expected)} of expected); first companion for ${first} | ${others} other plates, for ${targetsWithOthers} of ${p.convoys.length} leaders |`);
    }
    // control: busy plates (≥ 40 reads on ≥ 10 days) that lead no convoy and are not planted
    const planted = new Set([
      ...p.convoys.flatMap((c) => [c.leader, c.follower]), ...p.clonedPlates.map((c) => c.plate), ...p.frequentVisitors.map((v) => v.plate),
      ...(p.incidentSeries ?? []).map((s) => s.plate), ...(p.seriesDecoys ?? []).map((d) => d.plate),
    ]);
    const perPlate = new Map<string, { n: number; days: Set<number> }>();
    for (const x of lines) {
      let s = perPlate.get(x.plate);
      if (!s) perPlate.set(x.plate, (s = { n: 0, days: new Set() }));
      s.n++;
      s.days.add(Math.floor(x.ts / kMsPerDay));
    }
    const controls = [...perPlate.entries()].filter(([plate, s]) => !planted.has(plate) && s.n >= 40 && s.days.size >= 10)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)).filter((_, i, all) => i % Math.max(1, Math.floor(all.length / p.convoys.length)) === 0).slice(0, p.convoys.length);
    for (const minCameras of [2, 3]) {
      let alarms = 0, listed = 0;
      for (const [plate] of controls) {
        const r = await engine.analytics(scopes, { kind: 'convoy', plate, windowSeconds: 120, minCameras, filter: {}, limit: 10_000 });
        if (r.total > 0) alarms++;
        listed += r.total;
      }
      convoyRows.push(`| control: convoy of busy plates without a follower, ≥ ${minCameras} cameras | ${controls.length} targets | 0 | – | ${listed} plates listed, for ${alarms} of ${controls.length} targets |`);
    }
    out.push(...convoyRows);

    // ---- cloned
    const cr = await engine.analytics(scopes, { kind: 'cloned', maxSpeedKmh: 250, minDistanceM: 5000, filter: {}, limit: 10_000 });
    const clonedRows = cr.results as ClonedRow[];
    const clonedPlanted = new Set(p.clonedPlates.map((c) => c.plate));
    const cFound = clonedRows.filter((x) => clonedPlanted.has(x.plate)).length;
    // expected: the plate's correct reads (original's and twin's) hold an impossible consecutive pair
    const correctByPlate = new Map<string, number[]>();
    lines.forEach((x, i) => {
      if (!clonedPlanted.has(x.plate)) return;
      const list = correctByPlate.get(x.plate);
      if (list) list.push(i);
      else correctByPlate.set(x.plate, [i]);
    });
    let cExpected = 0;
    for (const c of p.clonedPlates) {
      const ls = (correctByPlate.get(c.plate) ?? []).sort((a, b) => lines[a]!.ts - lines[b]!.ts || a - b);
      let hit = false;
      for (let i = 1; i < ls.length && !hit; i++) {
        const a = lines[ls[i - 1]!]!, b = lines[ls[i]!]!;
        const d = haversineM(a.lat, a.lon, b.lat, b.lon);
        hit = d >= 5000 && (d / Math.max((b.ts - a.ts) / 1000, 1)) * 3.6 > 250;
      }
      if (hit) cExpected++;
    }
    let viaMisread = 0, unexplained = 0;
    const unexplainedExamples: string[] = [];
    for (const x of clonedRows) {
      if (clonedPlanted.has(x.plate)) continue;
      const ls = x.example.map((h) => lineOfId.get(h.id)!);
      if (ls.some((l) => misread.has(l))) viaMisread++;
      else {
        unexplained++;
        if (unexplainedExamples.length < 3) unexplainedExamples.push(`${x.plate} lines ${ls.join('/')} ${x.maxSpeedKmh.toFixed(0)} km/h`);
      }
    }
    out.push(`| cloned, > 250 km/h and ≥ 5 km, all ${days} days | ${p.clonedPlates.length} | ${cExpected} | ${cFound} (${pct(cFound, p.clonedPlates.length)}; ${pct(cFound, cExpected)} of expected) | ${cr.total - cFound} other plates: ${viaMisread} with a misread in the fastest pair, ${unexplained} without${unexplainedExamples.length ? ` (${unexplainedExamples.join('; ')})` : ''} |`);

    // ---- frequent
    let fExpected = 0, fFound = 0, fOthers = 0;
    const fOthersPer: number[] = [];
    for (const v of p.frequentVisitors) {
      const correct = v.lines.filter((l) => !misread.has(l));
      const daysSeen = new Set(correct.map((l) => Math.floor(lines[l]!.ts / kMsPerDay))).size;
      if (correct.length >= 5 && daysSeen >= 3) fExpected++;
      const r = await engine.analytics(scopes, { kind: 'frequent', filter: { near: { lat: v.lat, lon: v.lon, radiusM: 500 } }, minReads: 5, minDays: 3, limit: 10_000 });
      const rows = r.results as FrequentRow[];
      if (rows.some((x) => x.plate === v.plate)) fFound++;
      const o = rows.filter((x) => x.plate !== v.plate).length;
      fOthers += o;
      fOthersPer.push(o);
    }
    fOthersPer.sort((a, b) => a - b);
    out.push(`| frequent, ≥ 5 reads on ≥ 3 days within 500 m of the visitor's camera | ${p.frequentVisitors.length} | ${fExpected} | ${fFound} (${pct(fFound, p.frequentVisitors.length)}; ${pct(fFound, fExpected)} of expected) | ${fOthers} other plates in all (median ${fOthersPer[fOthersPer.length >> 1] ?? 0} per camera, at most ${fOthersPer[fOthersPer.length - 1] ?? 0}): the camera's commuters and regulars |`);

    // ---- multi-site (files written before incident series have none: the rows say so)
    const series = p.incidentSeries ?? [];
    const decoys = p.seriesDecoys ?? [];
    const kHourMs = 3_600_000;
    // the question as asked (500 m, ± 1 h of each incident), with one site allowed blind, and widened
    const questions = [{ radiusM: 500, hours: 1, blind: 0 }, { radiusM: 500, hours: 1, blind: 1 }, { radiusM: 2000, hours: 3, blind: 0 }];
    for (const { radiusM, hours, blind } of questions) {
      /** Incidents (indexes) at which `ls` holds a correct read inside the site. */
      const sitesSeen = (ls: number[], s: (typeof series)[number]) => new Set(ls.filter((l) => !misread.has(l)).flatMap((l) => {
        const x = lines[l]!;
        return s.incidents.flatMap((inc, k) => (haversineM(inc.lat, inc.lon, x.lat, x.lon) <= radiusM && x.ts >= Date.parse(inc.at) - hours * kHourMs && x.ts < Date.parse(inc.at) + hours * kHourMs ? [k] : []));
      })).size;
      let expected = 0, found = 0, first = 0, decoysExpected = 0, decoysListed = 0, others = 0, seriesWithOthers = 0;
      const othersPer: number[] = [];
      for (const [i, s] of series.entries()) {
        const n = s.incidents.length;
        const minSites = n - blind;
        const sites = s.incidents.map((inc) => ({ near: { lat: inc.lat, lon: inc.lon, radiusM }, from: Date.parse(inc.at) - hours * kHourMs, to: Date.parse(inc.at) + hours * kHourMs }));
        const r = await engine.analytics(scopes, { kind: 'multisite', sites, minSites, filter: {}, limit: 10_000 });
        const rows = r.results as MultisiteRow[];
        if (sitesSeen(s.lines, s) >= minSites) expected++;
        const at = rows.findIndex((x) => x.plate === s.plate);
        if (at >= 0) found++;
        if (at === 0) first++;
        const mine = decoys.filter((d) => d.series === i);
        decoysExpected += mine.filter((d) => sitesSeen(d.lines, s) >= minSites).length;
        decoysListed += mine.filter((d) => rows.some((x) => x.plate === d.plate)).length;
        const o = rows.filter((x) => x.plate !== s.plate && !mine.some((d) => d.plate === x.plate)).length;
        others += o;
        othersPer.push(o);
        if (o > 0) seriesWithOthers++;
      }
      othersPer.sort((a, b) => a - b);
      const rule = blind === 0 ? 'at all of the series\' 3–4 sites' : 'at all sites but one';
      out.push(`| multi-site, ${rule} (${radiusM} m, ± ${hours} h of each incident) | ${series.length} | ${expected} | ${found} (${pct(found, series.length)}; ${pct(found, expected)} of expected); first for ${first} | ` +
        `decoys: ${decoysListed} of ${decoys.length} listed (${decoysExpected} met the rule); ${others} other plates, for ${seriesWithOthers} of ${series.length} series (at most ${othersPer[othersPer.length - 1] ?? 0}) |`);
    }

    process.stdout.write([
      `gen seed ${seed}: ${readsN.toLocaleString('en-US')} reads (${summary.misreads.total.toLocaleString('en-US')} misreads), ${tenants.length} agencies, ${days} days; ` +
        `planted ${p.convoys.length} convoys, ${p.clonedPlates.length} cloned plates, ${p.frequentVisitors.length} frequent visitors, ` +
        `${series.length} incident series (${decoys.length} decoys); analyses ${((performance.now() - started) / 1000).toFixed(1)} s`,
      '',
      '| analysis | planted | expected | found | also listed |',
      '| --- | ---: | ---: | --- | --- |',
      ...out,
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
