/**
 * The Parquet export (`format=parquet`, API.md "export"): one row per read, the export columns of
 * src/server/export/format.ts, typed for analysis tools (DuckDB, pandas/pyarrow, Polars, Spark):
 *
 *   id, tenant, plate, camera       BYTE_ARRAY UTF8 (STRING), required
 *   ts                              INT64 TIMESTAMP(MILLIS, isAdjustedToUTC = true), required
 *   lat, lon                        DOUBLE degrees, required (the stored fixed-point value, as NDJSON gives it)
 *   region, make, color             BYTE_ARRAY UTF8 (STRING), optional: null when the read has none
 *   confidence                      DOUBLE, optional: null when the read has none
 *
 * Written with hyparquet-writer (pure JavaScript, one dependency of its own, hyparquet; no native or WASM
 * binary to build or load; actively released): row groups of kRowGroupRows rows are encoded as the reads
 * stream in (Snappy-compressed pages, column statistics) and their bytes handed to the sink at once, so
 * memory holds one row group, not the export. The footer goes out at `finish`.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { StoredRead } from '../../model/read.js';

/** Rows per row group: ~64k reads is a few MB encoded, big enough for good compression and statistics. */
export const kRowGroupRows = 65_536;

export const kParquetContentType = 'application/vnd.apache.parquet';

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const str = (name: string, required: boolean): SchemaElement => ({
  name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: required ? 'REQUIRED' : 'OPTIONAL',
});
const dbl = (name: string, required: boolean): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: required ? 'REQUIRED' : 'OPTIONAL' });

const kSchema: SchemaElement[] = [
  { name: 'root', num_children: 11 },
  str('id', true),
  str('tenant', true),
  str('plate', true),
  {
    name: 'ts', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  dbl('lat', true),
  dbl('lon', true),
  str('camera', true),
  str('region', false),
  dbl('confidence', false),
  str('make', false),
  str('color', false),
];

/** Streams reads into a Parquet file, one row group at a time; bytes go to `sink` in order. */
export class ParquetExport {
  private readonly writer = new ByteWriter(1 << 20);
  private readonly parquet: ParquetWriter;
  private cols = ParquetExport.emptyColumns();
  private rows = 0;

  constructor(private readonly sink: (bytes: Uint8Array) => Promise<void>, private readonly rowGroupRows = kRowGroupRows) {
    this.parquet = new ParquetWriter({
      writer: this.writer, schema: kSchema, codec: 'SNAPPY', createdBy: 'platesearch',
      kvMetadata: [{ key: 'platesearch.export', value: 'reads v1: ts is epoch milliseconds UTC, lat/lon degrees WGS84' }],
    });
  }

  private static emptyColumns() {
    return {
      id: [] as string[], tenant: [] as string[], plate: [] as string[], ts: [] as number[], lat: [] as number[], lon: [] as number[],
      camera: [] as string[], region: [] as (string | null)[], confidence: [] as (number | null)[], make: [] as (string | null)[], color: [] as (string | null)[],
    };
  }

  async add(r: StoredRead): Promise<void> {
    const c = this.cols;
    c.id.push(r.id);
    c.tenant.push(r.tenant);
    c.plate.push(r.plate);
    c.ts.push(r.ts);
    c.lat.push(r.lat);
    c.lon.push(r.lon);
    c.camera.push(r.camera);
    c.region.push(r.region ?? null);
    c.confidence.push(r.confidence ?? null);
    c.make.push(r.make ?? null);
    c.color.push(r.color ?? null);
    if (++this.rows >= this.rowGroupRows) await this.flushGroup();
  }

  private async flushGroup(): Promise<void> {
    if (this.rows === 0) return;
    const c = this.cols;
    const n = this.rows;
    this.cols = ParquetExport.emptyColumns();
    this.rows = 0;
    await this.parquet.write({
      columnData: Object.entries(c).map(([name, data]) => ({ name, data })),
      rowGroupSize: n,
    });
    await this.drainWriter();
  }

  /** Hands the encoded bytes to the sink and empties the buffer (the writer keeps counting file offsets). */
  private async drainWriter(): Promise<void> {
    const w = this.writer;
    if (w.index === 0) return;
    const bytes = new Uint8Array(w.buffer.slice(0, w.index));
    w.index = 0;
    await this.sink(bytes);
  }

  /** Writes the last row group and the footer. */
  async finish(): Promise<void> {
    await this.flushGroup();
    await this.parquet.finish();
    await this.drainWriter();
  }
}
