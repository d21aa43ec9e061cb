/**
 * The hot-list model: a tenant's named list of wanted plates (an NCIC extract, a BOLO), held columnar
 * because a list may have 1,000,000 entries and is loaded, matched and written as a whole.
 */
import type { MatchSpec } from './matcher.js';

/** One entry as the API shows it. `plate` is the normalised plate or wildcard pattern. */
export interface HotlistEntry {
  plate: string;
  note: string;
  priority?: number | string;
  /** Epoch ms; at and after it the entry never matches. */
  expires?: number;
}

/** A list as stored: its matching options and its entries, columnar. */
export interface Hotlist extends MatchSpec {
  name: string;
  /** Epoch ms of the PUT that stored this version. */
  updated: number;
  /** `lookbackDays` of that PUT, kept for GET; absent if none was asked. */
  lookbackDays?: number;
  /** Normalised entries (plates or `?`/`*` patterns), de-duplicated, in order of first appearance. */
  plates: string[];
  notes: string[];
  /** Per entry, or null when no entry has a priority. */
  priorities: Array<number | string | undefined> | null;
  /** Per entry, epoch ms (`Infinity` = never), or null when no entry expires. */
  expires: Float64Array | null;
}

/**
 * Hot-list names key files (`hotlists/<tenant>/<name>.hotlist`) and URLs, so they are a strict slug:
 * letters, digits, `.`, `_`, `-`; 1–64 characters; starting with a letter or digit; no `..`.
 */
const kHotlistName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isHotlistName(s: unknown): s is string {
  return typeof s === 'string' && kHotlistName.test(s) && !s.includes('..');
}

export function entryAt(list: Hotlist, i: number): HotlistEntry {
  const entry: HotlistEntry = { plate: list.plates[i]!, note: list.notes[i]! };
  const priority = list.priorities?.[i];
  if (priority !== undefined) entry.priority = priority;
  const expires = list.expires?.[i];
  if (expires !== undefined && expires !== Infinity) entry.expires = expires;
  return entry;
}
