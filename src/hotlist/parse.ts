/**
 * `PUT /v1/hotlists/{name}` body → a validated Hotlist. Every error names its field (`entries[12].plate`).
 *
 * Judgement calls (documented in docs/hotlists.md):
 * - `match` is `exact` (default) or `fuzzy`; `wildcard` is accepted as a synonym of `exact` (entries with
 *   `?`/`*` are wildcard patterns in every list). `maxEdits` (0–2, default 1 for fuzzy, 0 otherwise) and
 *   `transpositions` are accepted with any `match` and stored as given (GET shows the list as stored), but
 *   used only by `fuzzy`, because the contract shows `maxEdits` on every list.
 * - Entries are normalised like search patterns (src/query/parse.ts `parsePlateMatch` rules: ≤ 10
 *   characters besides `*`, not empty); duplicates after normalisation are merged, the first kept.
 * - Unknown fields, at the top or in an entry, are a 400, as for searches.
 */
import { BadInput } from '../errors.js';
import { parsePlateMatch } from '../query/parse.js';
import { kMaxHotlistEntries, kMaxPurposeLength } from '../query/parse.js';
import { parseTimestamp } from '../model/time.js';
import type { Hotlist } from './hotlist.js';
import { PlateDedupe } from './plate-dedupe.js';

/** Longest `note`, in UTF-16 units: an NCIC record's miscellaneous field is far shorter. */
export const kMaxNoteLength = 1024;
/** Longest string `priority`. */
export const kMaxPriorityLength = 64;
/** Longest look-back: ten years, beyond any retention. */
export const kMaxLookbackDays = 3660;

// `purpose` and `case` are optional here (a look-back is a search: they go to the audit record, via the pipeline)
const kTopFields = new Set(['entries', 'match', 'maxEdits', 'ocr', 'transpositions', 'lookbackDays', 'name', 'purpose', 'case']);
const kEntryFields = new Set(['plate', 'note', 'priority', 'expires']);
const kPlateOptions = { ocr: false, transpositions: false };
/** Already normalised and valid (the usual NCIC extract): skips re-normalising a million strings. */
const kNormalisedPlate = /^[A-Z0-9?]{1,10}$/;

export function parseHotlistBody(name: string, input: unknown, now: number): Hotlist {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw BadInput('body must be a JSON object');
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!kTopFields.has(key)) throw BadInput(`unknown field ${JSON.stringify(key)}`, { field: key });
  }
  for (const field of ['purpose', 'case'] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > kMaxPurposeLength)) {
      throw BadInput(`${field} must be a string of at most ${kMaxPurposeLength} characters`, { field });
    }
  }
  if (body.name !== undefined && body.name !== null && body.name !== name) {
    throw BadInput('name in the body must match the name in the path', { field: 'name' });
  }

  let mode: 'exact' | 'fuzzy' = 'exact';
  if (body.match !== undefined && body.match !== null) {
    if (body.match !== 'exact' && body.match !== 'fuzzy' && body.match !== 'wildcard') {
      throw BadInput('match must be "exact" or "fuzzy"', { field: 'match' });
    }
    mode = body.match === 'fuzzy' ? 'fuzzy' : 'exact';
  }
  // stored as given (GET shows the list as stored); the matcher uses it only with `fuzzy`
  let maxEdits = mode === 'fuzzy' ? 1 : 0;
  if (body.maxEdits !== undefined && body.maxEdits !== null) {
    const k = body.maxEdits;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 2) {
      throw BadInput('maxEdits must be an integer in [0, 2]', { field: 'maxEdits' });
    }
    maxEdits = k;
  }
  const flags = { ocr: false, transpositions: false };
  for (const field of ['ocr', 'transpositions'] as const) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') throw BadInput(`${field} must be a boolean`, { field });
    flags[field] = v;
  }
  let lookbackDays: number | undefined;
  if (body.lookbackDays !== undefined && body.lookbackDays !== null) {
    const d = body.lookbackDays;
    if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > kMaxLookbackDays) {
      throw BadInput(`lookbackDays must be a number in (0, ${kMaxLookbackDays}]`, { field: 'lookbackDays' });
    }
    lookbackDays = d;
  }

  const raw = body.entries;
  if (!Array.isArray(raw) || raw.length > kMaxHotlistEntries) {
    throw BadInput(`entries must be an array of at most ${kMaxHotlistEntries} entries`, { field: 'entries' });
  }
  const plates: string[] = [];
  const dedupe = new PlateDedupe(raw.length, plates);
  const notes: string[] = [];
  let priorities: Array<number | string | undefined> | null = null;
  let expires: Float64Array | null = null;
  for (let i = 0; i < raw.length; i++) {
    const entry = raw[i] as Record<string, unknown>;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw BadInput(`entries[${i}] must be an object {plate, note, priority?, expires?}`, { field: `entries[${i}]` });
    }
    const known = (entry.plate !== undefined ? 1 : 0) + (entry.note !== undefined ? 1 : 0)
      + (entry.priority !== undefined ? 1 : 0) + (entry.expires !== undefined ? 1 : 0);
    if (Object.keys(entry).length !== known) {
      for (const key of Object.keys(entry)) {
        if (!kEntryFields.has(key)) throw BadInput(`unknown field ${JSON.stringify(key)} in entries[${i}]`, { field: `entries[${i}].${key}` });
      }
    }
    const rawPlate = entry.plate;
    const plate = typeof rawPlate === 'string' && kNormalisedPlate.test(rawPlate)
      ? rawPlate
      : parsePlateMatch(rawPlate, kPlateOptions, `entries[${i}].plate`).pattern;

    let note = '';
    if (entry.note !== undefined && entry.note !== null) {
      if (typeof entry.note !== 'string' || entry.note.length > kMaxNoteLength) {
        throw BadInput(`entries[${i}].note must be a string of at most ${kMaxNoteLength} characters`, { field: `entries[${i}].note` });
      }
      note = entry.note;
    }
    let priority: number | string | undefined;
    if (entry.priority !== undefined && entry.priority !== null) {
      const p = entry.priority;
      const ok = (typeof p === 'number' && Number.isFinite(p)) || (typeof p === 'string' && p.length >= 1 && p.length <= kMaxPriorityLength);
      if (!ok) throw BadInput(`entries[${i}].priority must be a number or a string of 1-${kMaxPriorityLength} characters`, { field: `entries[${i}].priority` });
      priority = p as number | string;
    }
    let expiry = Infinity;
    if (entry.expires !== undefined && entry.expires !== null) {
      const t = parseTimestamp(entry.expires);
      if (t === undefined) {
        throw BadInput(`entries[${i}].expires must be an ISO-8601 string with a zone or epoch milliseconds`, { field: `entries[${i}].expires` });
      }
      expiry = t;
    }

    if (!dedupe.add(plate)) continue;
    const index = plates.length - 1;
    notes.push(note);
    if (priority !== undefined) {
      priorities ??= new Array<number | string | undefined>(raw.length).fill(undefined);
      priorities[index] = priority;
    }
    if (expiry !== Infinity) {
      expires ??= new Float64Array(raw.length).fill(Infinity);
      expires[index] = expiry;
    }
  }
  const n = plates.length;
  const list: Hotlist = {
    name, updated: now, mode, maxEdits, ocr: flags.ocr, transpositions: flags.transpositions,
    plates, notes,
    priorities: priorities ? priorities.slice(0, n) : null,
    expires: expires ? expires.slice(0, n) : null,
  };
  if (lookbackDays !== undefined) list.lookbackDays = lookbackDays;
  return list;
}
