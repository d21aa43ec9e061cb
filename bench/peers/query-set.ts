/**
 * The peer query set: the ten queries of issue 3's "Targets" table, as API.md request bodies built from
 * what the data holds (so every answer is non-empty), parsed by the product's own parser
 * (src/query/parse.ts) into the query model every peer translates. Every query is filtered to one tenant,
 * the busiest, as production searches are; "now" is just after the last read.
 */
import { kOcrClasses } from '../../src/model/plate.js';
import type { HotlistQuery, SearchQuery, TenantScope } from '../../src/model/query.js';
import { parseHotlistSearchRequest, parseSearchRequest } from '../../src/query/parse.js';
import type { AnalyticsKind, AnalyticsQuery } from '../../src/model/analytics.js';
import { parseAnalyticsRequest } from '../../src/query/analytics/parse.js';
import type { DataSample, SampledRead } from './data-sample.js';
import { BenchPrng } from './prng.js';
import { kNoCutoff } from './sql.js';

const kMsPerHour = 3_600_000;
const kMsPerDay = 86_400_000;
/** Metres per degree of latitude on the sphere of API.md's radius. */
const kMetresPerDegree = (6371008.8 * Math.PI) / 180;
/** Share of a hot list drawn from plates in the data; the rest are made up, as most NCIC entries go unseen. */
const kHotlistSeenShare = 0.5;
const kJustification = { purpose: 'benchmark', case: 'bench-peers' };

interface QueryBase {
  /** The row label of the results table, e.g. `exact plate, 7 days`. */
  name: string;
  /** What was asked, in words, e.g. `exact "7ABC123", pd-metro, 7 days`. */
  describe: string;
  scope: TenantScope;
}

export interface SearchBenchQuery extends QueryBase {
  kind: 'search';
  query: SearchQuery;
}

export interface HotlistBenchQuery extends QueryBase {
  kind: 'hotlist';
  query: HotlistQuery;
}

export interface AnalyticsBenchQuery extends QueryBase {
  kind: 'analytics';
  query: AnalyticsQuery;
}

export type BenchQuery = SearchBenchQuery | HotlistBenchQuery | AnalyticsBenchQuery;

export interface QuerySetOptions {
  seed: number;
  hotlistExact: number;
  hotlistFuzzy: number;
  /** Heavy plates and their reads (bench/peers/heavy-plates.ts); none: no skewed hot-list row. */
  heavy?: ReadonlyMap<string, number>;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Another character than `c`, not OCR-equivalent to it: a substitution that counts as an edit either way. */
function otherChar(c: string): string {
  const cls = kOcrClasses.find((k) => k.includes(c)) ?? c;
  for (const d of 'XK7H4MPWRTNEFCAJY3') if (!cls.includes(d) && d !== c) return d;
  throw new Error('unreachable');
}

/** The first position whose character has an OCR twin, and that twin (e.g. `B` → `8`). */
function ocrTwin(plate: string): { at: number; twin: string } | undefined {
  for (let i = 0; i < plate.length; i++) {
    const cls = kOcrClasses.find((k) => k.includes(plate[i]!));
    if (cls) return { at: i, twin: cls.split('').find((c) => c !== plate[i])! };
  }
  return undefined;
}

function replaceAt(s: string, at: number, c: string): string {
  return s.slice(0, at) + c + s.slice(at + 1);
}

/** Plates shaped like California's `1AAA999`, made up; they may or may not exist in the data. */
function madeUpPlate(rng: BenchPrng): string {
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  let p = String(1 + rng.below(9));
  for (let i = 0; i < 3; i++) p += letters[rng.below(letters.length)];
  for (let i = 0; i < 3; i++) p += String(rng.below(10));
  return p;
}

function hotlistPlates(sample: DataSample, size: number, rng: BenchPrng): string[] {
  const out = new Set<string>();
  const seen = Math.round(size * kHotlistSeenShare);
  for (const p of sample.plates) {
    if (out.size >= seen) break;
    out.add(p);
  }
  while (out.size < size) out.add(madeUpPlate(rng));
  return [...out];
}

function search(name: string, describe: string, scope: TenantScope, body: Record<string, unknown>): SearchBenchQuery {
  return { name, describe, scope, kind: 'search', query: parseSearchRequest({ ...body, ...kJustification }).query };
}

function hotlist(name: string, describe: string, scope: TenantScope, body: Record<string, unknown>): HotlistBenchQuery {
  return { name, describe, scope, kind: 'hotlist', query: parseHotlistSearchRequest({ ...body, ...kJustification }).query };
}

function analytics(name: string, describe: string, scope: TenantScope, kind: AnalyticsKind, body: Record<string, unknown>): AnalyticsBenchQuery {
  return { name, describe, scope, kind: 'analytics', query: parseAnalyticsRequest(kind, { ...body, ...kJustification }).query };
}

/**
 * Issue 14's four analytics rows: a convoy of a busy target over 28 days, a 3-site multi-site (three
 * sightings of one sampled vehicle, 500 m and ± 1 h each), frequent visitors within 500 m over 28 days, and
 * cloned plates over 7 days; all over the busiest tenant.
 */
function analyticsQueries(sample: DataSample, scope: TenantScope, now: number): AnalyticsBenchQuery[] {
  const tenant = scope.tenant;
  const from28 = now - 28 * kMsPerDay;
  const days28 = { from: iso(from28), to: iso(now) };
  const busiest = [...sample.vehicles.values()]
    .map((v) => ({ plate: v.plate, n: v.sightings.filter((s) => s.tenant === tenant && s.ts >= from28).length }))
    .sort((a, b) => b.n - a.n || (a.plate < b.plate ? -1 : 1))[0];
  const recent = sample.reads.filter((r) => r.tenant === tenant && !r.misread && r.ts >= from28);
  // three reads of one plate (the plate with most reads in the reservoir), as a series of incidents would be
  const byPlate = new Map<string, SampledRead[]>();
  for (const r of recent) byPlate.set(r.plate, [...(byPlate.get(r.plate) ?? []), r]);
  const series = [...byPlate.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const sites = (series.length >= 3 ? series.slice(0, 3) : recent.slice(0, 3)).map((r) => ({
    near: { lat: r.lat, lon: r.lon, radiusM: 500 }, from: iso(r.ts - kMsPerHour), to: iso(r.ts + kMsPerHour),
  }));
  const place = recent[2] ?? recent[0];
  if (!busiest || !place || sites.length < 2) return [];
  return [
    analytics('convoy, busy target, 28 days', `companions of "${busiest.plate}" (${busiest.n} sightings), 120 s, ≥ 2 cameras, ${tenant}, 28 days`, scope, 'convoy',
      { plate: busiest.plate, windowSeconds: 120, minCameras: 2, ...days28 }),
    analytics(`multi-site, ${sites.length} sites`, `${sites.length} sites of 500 m ± 1 h (sightings of one vehicle), all sites, ${tenant}`, scope, 'multisite',
      { sites }),
    analytics('frequent visitor, 500 m, 28 days', `≥ 5 reads within 500 m of (${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}), ${tenant}, 28 days`, scope, 'frequent',
      { near: { lat: place.lat, lon: place.lon, radiusM: 500 }, minReads: 5, ...days28 }),
    analytics('cloned plates, 7 days', `> 250 km/h and ≥ 5 km between consecutive reads, ${tenant}, last 7 days`, scope, 'cloned',
      { maxSpeedKmh: 250, minDistanceM: 5000, from: iso(now - 7 * kMsPerDay), to: iso(now) }),
  ];
}

/** Builds the queries (issue 3's ten, issue 12's four) from the sample; throws if the data is too small to pick from. */
export function buildQuerySet(sample: DataSample, options: QuerySetOptions): BenchQuery[] {
  const rng = new BenchPrng(options.seed ^ 0x9ee7);
  const tenant = sample.tenantsBySize()[0];
  if (tenant === undefined) throw new Error('no data to query');
  const scope: TenantScope = { tenant, minTs: kNoCutoff };
  const now = sample.maxTs + 1;
  const weekAgo = now - 7 * kMsPerDay;

  // The plate searches look for a typical vehicle: among the tracked ones seen by the tenant in the last
  // week, with a 7-character plate that has an OCR twin, the one with the median number of sightings.
  const typical = [...sample.vehicles.values()]
    .map((v) => ({
      plate: v.plate,
      all: v.sightings.filter((s) => s.tenant === tenant).length,
      week: v.sightings.filter((s) => s.tenant === tenant && s.ts >= weekAgo).length,
    }))
    .filter((v) => v.week > 0 && v.plate.length === 7 && ocrTwin(v.plate) !== undefined)
    .sort((a, b) => a.all - b.all || (a.plate < b.plate ? -1 : 1));
  const target = typical[typical.length >> 1];
  // The place searches look where reads happen: reads of the tenant in the last week, in reservoir order.
  const recent = sample.reads.filter((r) => r.tenant === tenant && r.ts >= weekAgo);
  const radiusAt = recent[0];
  const boxAt = recent[1];
  if (!target || !radiusAt || !boxAt) throw new Error(`too few recent reads of ${tenant} in the sample to pick queries`);
  const plate = target.plate;
  const pad = plate.padEnd(7, '0');
  const week = { from: iso(weekAgo), to: iso(now) };

  const wildcard = `${pad.slice(0, 3)}?${pad.slice(4, 6)}*`;
  const contains = `*${pad.slice(2, 6)}*`;
  const fuzzy1 = replaceAt(plate, Math.min(4, plate.length - 1), otherChar(plate[Math.min(4, plate.length - 1)]!));
  const twin = ocrTwin(plate) ?? { at: 0, twin: plate[0]! };
  const last = twin.at === plate.length - 1 ? 0 : plate.length - 1;
  const fuzzy2 = replaceAt(replaceAt(plate, twin.at, twin.twin), last, otherChar(plate[last]!));

  const dLat = 1000 / kMetresPerDegree;
  const dLon = dLat / Math.cos((boxAt.lat * Math.PI) / 180);
  const bbox = [boxAt.lon - dLon, boxAt.lat - dLat, boxAt.lon + dLon, boxAt.lat + dLat];

  // Issue 12: queries with many matches and a page of 1,000, whose latency should follow the page, not
  // the matches. The busiest tracked vehicle of the tenant; a one-character prefix; a 7-day scan without a
  // plate; and, to compare with it, a scan of the last reads whose window holds about 1,000 of them (from
  // the uniform sample: its k-th newest read of the tenant, k = 1,000 × sample size / reads).
  const busy = [...sample.vehicles.values()]
    .map((v) => ({ plate: v.plate, n: v.sightings.filter((x) => x.tenant === tenant).length }))
    .sort((a, b) => b.n - a.n || (a.plate < b.plate ? -1 : 1))[0] ?? { plate, n: 0 };
  const prefix = `${pad[0]}*`;
  const newest = sample.reads.filter((r) => r.tenant === tenant).map((r) => r.ts).sort((a, b) => b - a);
  const k = Math.max(1, Math.round((1000 * sample.reads.length) / Math.max(1, sample.count)));
  const thousandFrom = newest[Math.min(newest.length - 1, k - 1)] ?? weekAgo;

  const exactList = hotlistPlates(sample, options.hotlistExact, rng);
  const fuzzyList = hotlistPlates(sample, options.hotlistFuzzy, rng);
  // Issue 12's skewed hot list: 10k entries of which a few are plates read ≥ 10,000 times each, all time
  // (the heavy plates' reads are spread over every day)
  const heavy = [...(options.heavy ?? new Map<string, number>())].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const skewSize = 10_000;
  const skewList = heavy.length === 0 ? [] : [...new Set([...heavy.map(([p]) => p), ...hotlistPlates(sample, skewSize, rng)])].slice(0, skewSize);
  const heavyMin = Math.min(...heavy.map(([, n]) => n));
  const heaviest = [...heavy].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
  const at = (s: SampledRead) => `(${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}) at ${iso(s.ts)}`;

  return [
    search('exact plate, all time', `exact "${plate}" (a typical vehicle: ${target.all} sightings), ${tenant}, all time`, scope, { plate }),
    search('exact plate, 7 days', `exact "${plate}", ${tenant}, last 7 days`, scope, { plate, ...week }),
    search(`wildcard \`${wildcard}\``, `wildcard "${wildcard}", ${tenant}, all time`, scope, { plate: wildcard }),
    search(`contains \`${contains}\``, `wildcard "${contains}", ${tenant}, all time`, scope, { plate: contains }),
    search('fuzzy k=1', `fuzzy "${fuzzy1}" k=1, ${tenant}, all time`, scope,
      { plate: fuzzy1, match: 'fuzzy', maxEdits: 1 }),
    search('fuzzy k=2 with OCR classes', `fuzzy "${fuzzy2}" k=2 ocr, ${tenant}, all time`, scope,
      { plate: fuzzy2, match: 'fuzzy', maxEdits: 2, ocr: true }),
    search('500 m radius, 2 h', `500 m around ${at(radiusAt)} ± 1 h, ${tenant}`, scope, {
      near: { lat: radiusAt.lat, lon: radiusAt.lon, radiusM: 500 },
      from: iso(radiusAt.ts - kMsPerHour), to: iso(radiusAt.ts + kMsPerHour),
    }),
    search('2x2 km bbox, 1 day', `2×2 km around ${at(boxAt)} ± 12 h, ${tenant}`, scope, {
      bbox, from: iso(boxAt.ts - 12 * kMsPerHour), to: iso(boxAt.ts + 12 * kMsPerHour),
    }),
    search('busy exact plate, limit 1000', `exact "${busy.plate}" (the busiest tracked vehicle: ${busy.n} sightings), ${tenant}, all time`, scope,
      { plate: busy.plate, limit: 1000 }),
    // the "busy exact plate (≥ 10,000 reads)": the busiest tracked vehicle above has a few hundred
    // reads, so the heaviest of the heavy plates (heavy-plates.ts) is asked for as well
    ...(heaviest === undefined ? [] : [search('heavy exact plate, limit 1000', `exact "${heaviest[0]}" (a heavy plate: ${heaviest[1].toLocaleString('en-US')} reads), ${tenant}, all time`, scope,
      { plate: heaviest[0], limit: 1000 })]),
    search(`wildcard \`${prefix}\`, limit 1000`, `wildcard "${prefix}", ${tenant}, all time`, scope, { plate: prefix, limit: 1000 }),
    search('no plate, 7 days, limit 1000', `every read of ${tenant} in the last 7 days`, scope, { ...week, limit: 1000 }),
    search('no plate, ~1000 matches, limit 1000', `every read of ${tenant} since ${iso(thousandFrom)} (about 1,000)`, scope,
      { from: iso(thousandFrom), to: iso(now), limit: 1000 }),
    hotlist(`hot list ${exactList.length / 1000}k exact, 7 days`,
      `${exactList.length} plates exact, ${tenant}, last 7 days`, scope, { plates: exactList, ...week }),
    hotlist(`hot list ${fuzzyList.length / 1000}k fuzzy k=1, 7 days`,
      `${fuzzyList.length} plates fuzzy k=1, ${tenant}, last 7 days`, scope,
      { plates: fuzzyList, match: 'fuzzy', maxEdits: 1, ...week }),
    ...(skewList.length === 0 ? [] : [hotlist(`hot list ${skewList.length / 1000}k exact, ${heavy.length} heavy plates`,
      `${skewList.length} plates exact, ${heavy.length} of them read ≥ ${heavyMin.toLocaleString('en-US')} times each, ${tenant}, all time`, scope,
      { plates: skewList })]),
    ...analyticsQueries(sample, scope, now),
  ];
}
