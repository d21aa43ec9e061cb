/**
 * The open export formats (API.md "export"): one line per read, the hit fields
 * `id, tenant, plate, ts, lat, lon, camera, region, confidence, make, color` with `ts` as ISO-8601 UTC
 * with milliseconds.
 *
 * - NDJSON (`application/x-ndjson`): one JSON object a line, the object a search hit is without
 *   `distance` (src/model/read-json.ts).
 * - Parquet (`application/vnd.apache.parquet`): the same columns typed, nulls for missing optional fields;
 *   see src/server/export/parquet.ts.
 * - CSV (`text/csv`, RFC 4180 quoting, "\n" line ends): a header row of the field names, then one row per
 *   read; a field is quoted when it holds `,`, `"`, CR or LF, with `"` doubled; a missing optional field is
 *   empty. Values are written as stored (no spreadsheet-formula escaping), so the export round-trips.
 */
import type { StoredRead } from '../../model/read.js';
import { readToJson } from '../../model/read-json.js';

export type ExportFormat = 'ndjson' | 'csv';
/** Every export format: the text ones above, and Parquet (binary, src/server/export/parquet.ts). */
export type AnyExportFormat = ExportFormat | 'parquet';

export const kExportFields = ['id', 'tenant', 'plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color'] as const;

export const kExportContentType: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export function isExportFormat(s: unknown): s is ExportFormat {
  return s === 'ndjson' || s === 'csv';
}

export function isAnyExportFormat(s: unknown): s is AnyExportFormat {
  return isExportFormat(s) || s === 'parquet';
}

export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The first line of an export (empty for NDJSON). */
export function exportHeader(format: ExportFormat): string {
  return format === 'csv' ? kExportFields.join(',') + '\n' : '';
}

/** One read as one line, newline included. */
export function exportLine(format: ExportFormat, r: StoredRead): string {
  const o: Partial<Record<(typeof kExportFields)[number], string | number>> = readToJson(r);
  if (format === 'ndjson') return JSON.stringify(o) + '\n';
  return kExportFields.map((f) => csvField(o[f])).join(',') + '\n';
}
