/**
 * The server's Prometheus metrics (prom-client), on a registry of its own so several servers can live in
 * one process (tests). Names follow Prometheus conventions: `platesearch_` prefix, base units, `_total`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine } from '../engine/engine.js';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  requestDuration: Histogram<'method' | 'route'>;
  readsAccepted: Counter;
  readsRejected: Counter;
  auditFailures: Counter;
  ingestHookFailures: Counter;
  inFlight: Gauge;
  /** One answered request: `requests` and `requestDuration` by its labels (children cached per label set). */
  answered(method: string, route: string, status: number, seconds: number): void;
}

// seconds; from sub-millisecond exact lookups to the query budget
const kDurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(engine: () => Engine | undefined): ServerMetrics {
  const registry = new Registry();
  const answeredChildren = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();
  collectDefaultMetrics({ register: registry, prefix: 'platesearch_' });
  const m: ServerMetrics = {
    registry,
    requests: new Counter({
      name: 'platesearch_http_requests_total', help: 'HTTP requests answered, by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const, registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'platesearch_http_request_duration_seconds', help: 'Time from request to answer (head), by route pattern',
      labelNames: ['method', 'route'] as const, buckets: kDurationBuckets, registers: [registry],
    }),
    readsAccepted: new Counter({ name: 'platesearch_reads_accepted_total', help: 'Reads accepted by HTTP ingest', registers: [registry] }),
    readsRejected: new Counter({ name: 'platesearch_reads_rejected_total', help: 'Reads rejected by HTTP ingest', registers: [registry] }),
    auditFailures: new Counter({
      name: 'platesearch_audit_append_failures_total', help: 'Audit records that could not be written (request answered 503)', registers: [registry],
    }),
    ingestHookFailures: new Counter({
      name: 'platesearch_ingest_hook_failures_total', help: 'Post-ingest hooks (hot-list matching) that threw', registers: [registry],
    }),
    inFlight: new Gauge({ name: 'platesearch_http_requests_in_flight', help: 'Requests being served', registers: [registry] }),
    answered(method, route, status, seconds) {
      // prom-client hashes a label object on every inc/observe; a request's label set is one of a few
      // dozen (method × route pattern × status), so its children are looked up once and kept
      const key = `${method} ${route} ${status}`;
      let c = answeredChildren.get(key);
      if (!c) {
        c = { count: m.requests.labels(method, route, String(status)), duration: m.requestDuration.labels(method, route) };
        answeredChildren.set(key, c);
      }
      c.count.inc();
      c.duration.observe(seconds);
    },
  };
  const stat = (name: string, help: string, pick: (s: ReturnType<Engine['stats']>) => number): void => {
    new Gauge({
      name, help, registers: [registry],
      collect() {
        const e = engine();
        if (!e) return;
        try {
          this.set(pick(e.stats()));
        } catch {
          // engine closing
        }
      },
    });
  };
  stat('platesearch_engine_reads', 'Reads held by the engine', (s) => s.reads);
  stat('platesearch_engine_live_reads', 'Reads not yet sealed into shards', (s) => s.liveReads);
  stat('platesearch_engine_shards', 'Sealed shards', (s) => s.shards);
  stat('platesearch_engine_tenants', 'Tenants with data', (s) => s.tenants);
  stat('platesearch_engine_resident_bytes', 'Bytes of shard data held in memory', (s) => s.residentBytes);
  stat('platesearch_engine_corrupt_files', 'Data files that failed their checksum', (s) => s.corruptFiles.length);
  return m;
}
