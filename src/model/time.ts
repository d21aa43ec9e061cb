/**
 * Timestamps: epoch milliseconds inside the system; ISO-8601 with a zone, or epoch-ms numbers, at the edge.
 * API.md: strings must carry a zone (`Z` or an offset); finer than milliseconds is truncated;
 * numbers given as strings are not coerced.
 */

const kIso =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** Parses an ISO-8601 string with a zone; returns epoch ms, or undefined if it is not one. */
export function parseIsoTimestamp(s: string): number | undefined {
  return parseCanonicalIso(s) ?? parseIsoGeneral(s);
}

const kDigit0 = 48;

/** The number written by the `n` decimal digits of `s` at `at`, or -1 if one of them is not a digit. */
function digitsAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - kDigit0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil; `month` 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The shape nearly every camera sends, `YYYY-MM-DDTHH:MM:SS.sssZ` (what toISOString writes), parsed by
 * hand: the general path's regex and Date calls cost ~0.7 µs a read, a third of validating one at ingest.
 * Anything else, and any out-of-range field, is left to parseIsoGeneral (undefined here), which is the
 * definition; test/time-parse.test.ts holds the two equal.
 */
function parseCanonicalIso(s: string): number | undefined {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84
    || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) {
    return undefined;
  }
  const year = digitsAt(s, 0, 4), month = digitsAt(s, 5, 2), day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2), minute = digitsAt(s, 14, 2), second = digitsAt(s, 17, 2), ms = digitsAt(s, 20, 3);
  if (year < 0 || ms < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour < 0
    || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  return (((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second) * 1000 + ms;
}

/** Every ISO-8601 form API.md accepts (see kIso): the definition the fast path must agree with. */
export function parseIsoGeneral(s: string): number | undefined {
  const m = kIso.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = sec === undefined ? 0 : Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  // Finer than milliseconds is truncated, never rounded (API.md); any number of fraction digits is accepted.
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  let t = date.getTime();
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    const digits = zone!.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)), om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    t -= sign * (oh * 60 + om) * 60_000;
  }
  return t;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const kDaysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `month` 1–12. */
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : kDaysInMonth[month - 1]!;
}

/**
 * Accepts an ISO string with zone or a finite number of epoch ms. Returns undefined for anything else
 * (including numbers given as strings, which API.md says are not coerced), so the caller can name the field.
 *
 * Judgement call: a fractional epoch-ms number is cut to the millisecond that contains it (`Math.floor`),
 * which is what truncating the sub-millisecond digits of the equivalent ISO string does, also before 1970
 * (`1969-12-31T23:59:59.9995Z` → .999 → −1). `Math.trunc` would move pre-1970 instants forward instead.
 * The range is the one of ECMAScript dates (±8.64e15 ms), so every accepted ts can be printed as ISO.
 */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    const t = Math.floor(v) + 0; // + 0 turns -0 into 0
    return Math.abs(t) <= 8.64e15 ? t : undefined;
  }
  if (typeof v === 'string') return parseIsoTimestamp(v);
  return undefined;
}

const kMsPerDay = 86_400_000;
// The date part of recent days ("2026-11-22T"), direct-mapped by day: Date#toISOString costs ~0.6 µs where
// the time of day by hand costs ~0.1, and an answer's hits (one plate's reads, newest first) mostly fall on
// different days of the last weeks, so one remembered day missed on nearly every hit.
const kDayCache = 64; // a power of two
const cachedDays = new Float64Array(kDayCache).fill(NaN);
const cachedDates: string[] = new Array<string>(kDayCache).fill('');

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** ISO-8601 UTC with milliseconds, as every answer and export prints it: exactly `new Date(ms).toISOString()`. */
export function formatTimestamp(ms: number): string {
  const day = Math.floor(ms / kMsPerDay);
  const slot = day & (kDayCache - 1);
  let date = cachedDates[slot]!;
  if (cachedDays[slot] !== day) {
    const iso = new Date(day * kMsPerDay).toISOString();
    date = cachedDates[slot] = iso.slice(0, iso.indexOf('T') + 1);
    cachedDays[slot] = day;
  }
  let rest = ms - day * kMsPerDay;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${date}${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}
