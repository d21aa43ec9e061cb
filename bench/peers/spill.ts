/**
 * The spill file: every read as the engine stored it (with the id it assigned), one line each, in
 * PostgreSQL's COPY text format, so that PostgreSQL (`COPY reads FROM STDIN`) and DuckDB (`read_csv`, or its
 * appender when there are escapes) load the very same rows. Columns, tab-separated, `\N` for a missing optional field:
 *
 *   id  tenant  plate  ts (ISO-8601 UTC, ms)  lat  lon  camera  region  confidence  make  color
 *
 * Text fields escape `\`, tab, newline and carriage return with a backslash, as COPY expects.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { StoredRead } from '../../src/model/read.js';

export const kSpillColumns = [
  'id', 'tenant', 'plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color',
] as const;

// Bytes gathered before one write(2).
const kFlushChars = 1 << 22;

const kNeedsEscape = /[\\\t\n\r]/;

function escapeText(s: string): string {
  return kNeedsEscape.test(s)
    ? s.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r')
    : s;
}

function unescapeText(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

const opt = (s: string | undefined) => (s === undefined ? '\\N' : escapeText(s));

export class SpillWriter {
  private readonly fd: number;
  private pending = '';
  rows = 0;
  /** Some text field needed a backslash escape: readers other than COPY text must unescape (readSpill does). */
  escaped = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(reads: readonly StoredRead[]): void {
    let out = this.pending;
    for (const r of reads) {
      out += `${escapeText(r.id)}\t${escapeText(r.tenant)}\t${r.plate}\t${new Date(r.ts).toISOString()}\t${r.lat}\t${r.lon}\t` +
        `${escapeText(r.camera)}\t${opt(r.region)}\t${r.confidence === undefined ? '\\N' : r.confidence}\t` +
        `${opt(r.make)}\t${opt(r.color)}\n`;
      if (out.length >= kFlushChars) {
        writeSync(this.fd, out);
        out = '';
      }
    }
    this.pending = out;
    this.rows += reads.length;
    if (!this.escaped) {
      this.escaped = reads.some((r) =>
        [r.id, r.tenant, r.camera, r.region, r.make, r.color].some((t) => t !== undefined && kNeedsEscape.test(t)));
    }
  }

  close(): void {
    if (this.pending) writeSync(this.fd, this.pending);
    this.pending = '';
    closeSync(this.fd);
  }
}

/** A spilled row, fields as stored (undefined for `\N`); `ts` in epoch ms. */
export interface SpillRow {
  id: string;
  tenant: string;
  plate: string;
  ts: number;
  lat: number;
  lon: number;
  camera: string;
  region: string | undefined;
  confidence: number | undefined;
  make: string | undefined;
  color: string | undefined;
}

/** Reads the spill file back, row by row. */
export async function* readSpill(path: string): AsyncGenerator<SpillRow> {
  const lines = createInterface({ input: createReadStream(path, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    const f = line.split('\t');
    const text = (i: number) => (f[i] === '\\N' ? undefined : unescapeText(f[i]!));
    yield {
      id: unescapeText(f[0]!),
      tenant: unescapeText(f[1]!),
      plate: f[2]!,
      ts: Date.parse(f[3]!),
      lat: Number(f[4]),
      lon: Number(f[5]),
      camera: unescapeText(f[6]!),
      region: text(7),
      confidence: f[8] === '\\N' ? undefined : Number(f[8]),
      make: text(9),
      color: text(10),
    };
  }
}
