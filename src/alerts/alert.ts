/**
 * An alert: one (read, matching hot-list entry) pair raised for the tenant that owns the list, and how
 * it is written, once, as the `data:` of its Server-Sent Event (and as the payload of its log record).
 */
import type { StoredRead } from '../model/read.js';
import { readToJson, type ReadJson } from '../model/read-json.js';
import { formatTimestamp } from '../model/time.js';

/** What the matcher produces; the log gives it its id. */
export interface AlertDraft {
  hotlist: string;
  /** The entry as stored (normalised plate or pattern). */
  entry: string;
  note: string;
  priority?: number | string;
  /** 0 for exact and wildcard entries; the edit distance (on OCR-mapped strings when `ocr`) for fuzzy. */
  distance: number;
  /** True for alerts of a list's look-back search ("historical hits"), absent for live ones. */
  historical?: boolean;
  read: StoredRead;
}

/** The JSON of an alert's read: the hit fields of API.md (src/model/read-json.ts). */
export type AlertReadJson = ReadJson;

/**
 * The event's `data:` JSON: `{"id", "hotlist", "entry", "note", "priority"?, "distance", "historical"?,
 * "raised", "read": {…}}`. `id` repeats the event id; `raised` is when the alert was raised (ISO).
 */
export function alertPayload(id: number, draft: AlertDraft, raised: number): string {
  const data: Record<string, unknown> = { id, hotlist: draft.hotlist, entry: draft.entry, note: draft.note };
  if (draft.priority !== undefined) data.priority = draft.priority;
  data.distance = draft.distance;
  if (draft.historical) data.historical = true;
  data.raised = formatTimestamp(raised);
  data.read = readToJson(draft.read);
  return JSON.stringify(data);
}

/** One SSE event; the payload is one line of JSON (JSON.stringify never emits a raw newline). */
export function sseEvent(id: number, payload: string): string {
  return `id: ${id}\nevent: alert\ndata: ${payload}\n\n`;
}
