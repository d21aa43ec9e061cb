/** Row records as the columns a WAL record of kind 3 is written from (src/store/wal-record-columns.ts). */
import { readColumnsOf, type ReadColumns } from '../../src/store/read-columns.js';
import { kCoordScale } from '../../src/core/segment.js';
import type { RowRecord } from '../../src/store/wal-record.js';

/**
 * Rows as one batch of columns, through the builder appends use (degrees back to the same fixed-point
 * values: latE7 / 1e7 × 1e7 rounds to latE7 for every stored coordinate).
 */
export function columnsOfRows(rows: readonly RowRecord[]): ReadColumns {
  return readColumnsOf(rows.map((r) => ({
    plate: r.plate, ts: r.ts, lat: r.latE7 / kCoordScale, lon: r.lonE7 / kCoordScale, camera: r.camera,
    region: r.region, confidence: r.confidence, make: r.make, color: r.color, readId: r.readId,
  })));
}
