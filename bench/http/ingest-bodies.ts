/**
 * Ingest request bodies, encoded before the clock starts so that the clients' own encoding does not
 * compete with the server for the two cores: fresh generated reads (a seed of their own, stamped in
 * the last day), `batch` reads a body, in the three formats POST /v1/reads takes. The bodies are
 * cycled; a read sent twice is stored twice (no readId), which costs the server the same as a new one.
 */
import { pack } from 'msgpackr';
import { generateReads } from '../../src/gen/index.js';
import type { Read } from '../../src/model/read.js';
import type { BodyFormat } from './options.js';

export const kContentType: Record<BodyFormat, string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  msgpack: 'application/msgpack',
};

/** The wire form of a read: `ts` as API.md's ISO-8601 text, as a camera sends it. */
function wire(r: Read): Record<string, unknown> {
  return { ...r, ts: new Date(r.ts).toISOString() };
}

export function encodeBody(reads: readonly Read[], format: BodyFormat): string | Uint8Array {
  const rows = reads.map(wire);
  if (format === 'json') return JSON.stringify(rows);
  if (format === 'ndjson') return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return pack(rows);
}

export function ingestBodies(count: number, batch: number, format: BodyFormat, seed: number, tenant: string): Array<string | Uint8Array> {
  const start = Date.now() - 86_400_000;
  const bodies: Array<string | Uint8Array> = [];
  let reads: Read[] = [];
  for (const g of generateReads({ reads: count * batch, seed, tenants: [tenant], days: 1, start })) {
    reads.push(g.read);
    if (reads.length === batch) {
      bodies.push(encodeBody(reads, format));
      reads = [];
    }
  }
  return bodies;
}
