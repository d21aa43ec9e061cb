/**
 * A parse worker: receives pieces of an input file (src/ingest/chunker.ts, bulk ingest) or whole
 * `POST /v1/reads` bodies (src/ingest/parse-body.ts) and answers each with its parsed, validated reads as
 * columns (src/ingest/parse-chunk.ts), the typed arrays transferred, not copied. Jobs are answered in the
 * order they arrive. Plain JS at run time (dist/src/ingest/parse-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { parseChunk, type ParseJob } from './parse-chunk.js';
import { parseBody, type BodyJob } from './parse-body.js';
import { transferables } from '../store/read-columns.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', (m: { id: number; job: ParseJob | BodyJob }) => {
    try {
      const result = 'kind' in m.job ? parseBody(m.job) : parseChunk(m.job);
      port.postMessage({ id: m.id, result }, transferables(result.columns));
    } catch (err) {
      port.postMessage({ id: m.id, error: String((err as Error)?.stack ?? err) });
    }
  });
}
