/** Row records as the columns a WAL record of kind 3 is written from (src/store/wal-record-columns.ts). */
import { ReadColumnsBuilder, type ReadColumns } from '../../src/store/read-columns.js';
import { plateKey } from '../../src/store/plate-key.js';
import type { RowRecord } from '../../src/store/wal-record.js';

/** Rows as one batch of columns (the store's own fixed-point values, no conversion). */
export function columnsOfRows(rows: readonly RowRecord[]): ReadColumns {
  const b = new ReadColumnsBuilder(rows.length);
  for (const r of rows) {
    const i = b.length++;
    b.ts[i] = r.ts;
    b.latE7[i] = r.latE7;
    b.lonE7[i] = r.lonE7;
    b.confidence[i] = r.confidence ?? NaN;
    b.plate[i] = plateKey(r.plate);
    b.camera.set(i, r.camera);
    b.region.set(i, r.region);
    b.make.set(i, r.make);
    b.color.set(i, r.color);
    b.readId.set(i, r.readId);
  }
  return b.build();
}
