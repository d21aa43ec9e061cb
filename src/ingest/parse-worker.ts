/**
 * A parse worker: receives pieces of an input file (src/ingest/chunker.ts, bulk ingest) or whole
 * `POST /v1/reads` bodies (src/ingest/parse-body.ts) and answers each with its parsed, validated reads as
 * columns (src/ingest/parse-chunk.ts), the typed arrays transferred, not copied. Jobs are answered in the
 * order they arrive. A body's columns are laid out in one of this worker's reused buffers
 * (src/ingest/column-lanes.ts), which the pool sends back as `{release}` once the batch is appended.
 * Plain JS at run time (dist/src/ingest/parse-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { parseChunk, type ParseJob, type ParseResult } from './parse-chunk.js';
import { parseBody, type BodyJob } from './parse-body.js';
import { ColumnLanes } from './column-lanes.js';
import { transferables } from '../store/read-columns.js';

if (parentPort) {
  const port = parentPort;
  const lanes = new ColumnLanes();
  port.on('message', (m: { id: number; job: ParseJob | BodyJob } | { release: ArrayBuffer }) => {
    if ('release' in m) return lanes.give(m.release);
    const taken: ArrayBuffer[] = [];
    const lanesFor = (capacity: number) => {
      const buf = lanes.take(capacity);
      taken.push(buf);
      return buf;
    };
    try {
      // a body's or a piece's columns in one of this worker's buffers, back here once the rows are taken
      const result = 'kind' in m.job ? parseBody(m.job, lanesFor) : parseChunk(m.job, lanesFor);
      // buffers a parse took but its answer does not use (a fast path given up) stay here
      for (const buf of taken) if (buf !== result.lanes) lanes.give(buf);
      const transfer = result.lanes ? [result.lanes] : transferables(result.columns);
      if (!('kind' in m.job)) {
        // a piece's bytes are read into again by the pipeline (nothing parsed refers to them)
        const piece = m.job.bytes.buffer as ArrayBuffer;
        (result as ParseResult).piece = piece;
        transfer.push(piece);
      }
      port.postMessage({ id: m.id, result }, transfer);
    } catch (err) {
      for (const buf of taken) lanes.give(buf);
      port.postMessage({ id: m.id, error: String((err as Error)?.stack ?? err) });
    }
  });
}
