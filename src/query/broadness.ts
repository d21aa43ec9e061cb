/**
 * The broad-search rule of API.md v1.1 ("Accountability"), over the raw body of any search-like request:
 *
 *   broad  ⇔  weak pattern  ∧  (area > maxAreaKm2  ∨  window > maxDays)
 *
 * - weak pattern: no plate pattern, or one with fewer than 3 literal characters (A–Z, 0–9 after
 *   normalisation; `?` and `*` are not literal). A hot-list search (`plates`) is weak if any of its entries
 *   is: one near-empty entry scans as much as a search without a plate.
 * - area: the smallest of the areas given (`near`, `bbox`, `polygon` are ANDed, so the searched area is
 *   at most the smallest; src/model/geo-area.ts has the formulas); none given = unbounded.
 * - window: `to − from` in days; a missing bound = unbounded.
 * - analytics `multisite` (`sites[]`, each with its own area and window): broad if any site is broad; a
 *   site without a window takes the request's `from`/`to`.
 *
 * The rule is read over the raw body, before any route's parser, so one check covers every governed route
 * (src/server/governance/guard.ts) including routes added later, whatever their own fields. A value the
 * rule cannot read (a malformed area or time) counts as unbounded: a malformed request is never let past
 * the approval rule; its own parser then answers 400 if it is not held at 403 first.
 */
import { bboxAreaKm2, discAreaKm2, polygonAreaKm2 } from '../model/geo-area.js';
import { plateCodeOf } from '../model/plate.js';
import { parseTimestamp } from '../model/time.js';

export interface BroadRule {
  maxAreaKm2: number;
  maxDays: number;
}

export interface Broadness {
  broad: boolean;
  /** Why, in words an investigator can act on (empty when not broad). */
  reasons: string[];
  /** Smallest area of the request (or of its broadest site), km²; null = unbounded. */
  areaKm2: number | null;
  /** Window in days; null = unbounded. */
  days: number | null;
}

const kDayMs = 86_400_000;
/** API.md: a pattern with fewer literal characters than this is no narrowing at all. */
export const kMinLiteralChars = 3;
// a ring with more points than this is measured by its bounding box (the simplicity check is quadratic)
const kMaxCheckedRing = 500;

type Body = Record<string, unknown>;

function isObject(v: unknown): v is Body {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The literal characters of a pattern's first 64 code units once normalised, counted up to `enough`: what
 * `normalisePattern` keeps of them besides `?` and `*` (a–z upper-cased, A–Z, 0–9), read in place (no
 * normalised copy per entry: a hot list's 100 entries pass here on every search; held equal to that
 * definition by test/broadness-literal-chars.test.ts).
 */
export function literalChars(pattern: unknown, enough = Infinity): number {
  if (typeof pattern !== 'string') return 0;
  const end = Math.min(pattern.length, 64);
  let n = 0;
  for (let i = 0; i < end && n < enough; i++) {
    const c = pattern.charCodeAt(i);
    if (plateCodeOf(c) >= 0) n++;
  }
  return n;
}

/** Whether the body narrows by plate: a pattern (or, for hot lists, every entry) with ≥ 3 literal characters. */
export function hasNarrowPattern(body: Body): boolean {
  if (typeof body.plate === 'string') return literalChars(body.plate, kMinLiteralChars) >= kMinLiteralChars;
  if (Array.isArray(body.plates) && body.plates.length > 0) {
    return body.plates.every((p) => literalChars(isObject(p) ? p.plate : p, kMinLiteralChars) >= kMinLiteralChars);
  }
  return false;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function ringOf(v: unknown): Array<[number, number]> | undefined {
  if (!Array.isArray(v) || v.length < 3) return undefined;
  const ring: Array<[number, number]> = [];
  for (const p of v) {
    if (!Array.isArray(p) || p.length !== 2) return undefined;
    const lon = num(p[0]);
    const lat = num(p[1]);
    if (lon === undefined || lat === undefined) return undefined;
    ring.push([lon, lat]);
  }
  return ring;
}

function segmentsCross(a: [number, number], b: [number, number], c: [number, number], d: [number, number]): boolean {
  const orient = (p: [number, number], q: [number, number], r: [number, number]) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return orient(a, b, c) * orient(a, b, d) < 0 && orient(c, d, a) * orient(c, d, b) < 0;
}

/** A ring whose non-adjacent edges cross (a figure eight's signed parts cancel in the area formula). */
function selfIntersects(ring: Array<[number, number]>): boolean {
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsCross(ring[i]!, ring[(i + 1) % n]!, ring[j]!, ring[(j + 1) % n]!)) return true;
    }
  }
  return false;
}

function ringArea(ring: Array<[number, number]>): number {
  let minLon = Infinity, minLat = Infinity, maxLon = -Infinity, maxLat = -Infinity;
  for (const [lon, lat] of ring) {
    minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
  }
  const box = bboxAreaKm2(minLon, Math.max(-90, minLat), maxLon, Math.min(90, maxLat));
  if (ring.length > kMaxCheckedRing || selfIntersects(ring)) return box;
  return Math.min(box, polygonAreaKm2(ring));
}

/** The smallest of the areas an object states (`near`, `bbox`, `polygon`), km², or null when none is readable. */
export function areaOf(o: Body): number | null {
  const areas: number[] = [];
  if (isObject(o.near)) {
    const r = num(o.near.radiusM);
    if (r !== undefined && r >= 0) areas.push(discAreaKm2(r));
  }
  if (Array.isArray(o.bbox) && o.bbox.length === 4) {
    const [a, b, c, d] = o.bbox.map(num);
    if (a !== undefined && b !== undefined && c !== undefined && d !== undefined && a <= c && b <= d) {
      areas.push(bboxAreaKm2(a, Math.max(-90, b), c, Math.min(90, d)));
    }
  }
  const ring = ringOf(o.polygon);
  if (ring) areas.push(ringArea(ring));
  return areas.length === 0 ? null : Math.min(...areas);
}

/** `to − from` in days, or null when a bound is missing or unreadable. */
export function windowDays(o: Body, outer?: Body): number | null {
  const from = parseTimestamp(o.from ?? outer?.from);
  const to = parseTimestamp(o.to ?? outer?.to);
  if (from === undefined || to === undefined) return null;
  return Math.max(0, to - from) / kDayMs;
}

function judge(area: number | null, days: number | null, rule: BroadRule, where: string): string[] {
  const reasons: string[] = [];
  if (area === null) reasons.push(`${where}no area (near, bbox or polygon)`);
  else if (area > rule.maxAreaKm2) reasons.push(`${where}area ${area.toFixed(1)} km² > ${rule.maxAreaKm2} km²`);
  if (days === null) reasons.push(`${where}no time window (from and to)`);
  else if (days > rule.maxDays) reasons.push(`${where}window ${days.toFixed(2)} days > ${rule.maxDays} days`);
  return reasons;
}

/** Assesses any search-like body (search, hot-list search, preview, analytics) against `rule`. */
export function assessBroadness(body: unknown, rule: BroadRule): Broadness {
  if (!isObject(body)) return { broad: false, reasons: [], areaKm2: null, days: null };
  if (hasNarrowPattern(body)) return { broad: false, reasons: [], areaKm2: areaOf(body), days: windowDays(body) };
  const weak = typeof body.plate === 'string' || Array.isArray(body.plates) ? 'plate pattern with fewer than 3 literal characters' : 'no plate pattern';
  if (Array.isArray(body.sites)) {
    // multisite: broad if any site is
    let worst: Broadness = { broad: false, reasons: [], areaKm2: null, days: null };
    let first = true;
    body.sites.forEach((site, i) => {
      const s = isObject(site) ? site : {};
      const area = areaOf(s);
      const days = windowDays(s, body);
      const reasons = judge(area, days, rule, `site ${i}: `);
      if (first || (reasons.length > 0 && !worst.broad)) worst = { broad: reasons.length > 0, reasons, areaKm2: area, days };
      else if (reasons.length > 0) worst.reasons.push(...reasons);
      first = false;
    });
    if (body.sites.length === 0) return { broad: true, reasons: [weak, 'no sites'], areaKm2: null, days: null };
    return worst.broad ? { ...worst, reasons: [weak, ...worst.reasons] } : worst;
  }
  const area = areaOf(body);
  const days = windowDays(body);
  const reasons = judge(area, days, rule, '');
  return reasons.length > 0 ? { broad: true, reasons: [weak, ...reasons], areaKm2: area, days } : { broad: false, reasons: [], areaKm2: area, days };
}
