/**
 * The server's lifecycle: open the engine, the directory and the audit trail; run the route modules'
 * setup; listen; and on close (SIGTERM/SIGINT via the CLI): stop accepting, close alert streams, let
 * in-flight requests finish, run teardowns, flush and close the stores.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine, EngineOptions } from '../engine/engine.js';
import { openEngine } from '../engine/index.js';
import { acquireAuditWriter, drainInbox, kInboxPollMs } from './audit/inbox.js';
import { AuditTrail } from './audit/trail.js';
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { RateLimiter } from './rate-limit.js';
import type { IngestHook, RequestGuard, RouteModule, ServerConfig, ServerServices } from './route.js';
import { Router } from './router.js';
import { routeModules } from './routes/index.js';
import { Directory } from './tenancy/directory.js';

/** Defaults of the limits; each is documented in openapi.yaml (info.description). */
export const kDefaultConfig: ServerConfig = {
  // generous: an OCR k=2 scan of tens of millions of reads takes seconds on two cores
  queryBudgetMs: 30_000,
  // per user: far above a human investigator, enough for a busy integration; bursts absorb batch scripts
  rateLimitPerSecond: 1000,
  rateLimitBurst: 2000,
};

// How long shutdown waits for in-flight requests before cutting the connections.
const kDrainTimeoutMs = 10_000;

export interface ServerOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Engine worker threads (default: the engine's). */
  threads?: number;
  /** Further engine options (sealing thresholds); `dataDir` and `threads` come from above. */
  engineOptions?: Omit<EngineOptions, 'dataDir' | 'threads'>;
  logger?: Logger;
  config?: Partial<ServerConfig>;
  /** Route modules to serve; default: src/server/routes/index.ts. */
  modules?: readonly RouteModule[];
  /** Stores to use instead of opening them from `dataDir` (fault-injection tests); the server closes them. */
  engine?: Engine;
  directory?: Directory;
  auditTrail?: AuditTrail;
  /** `--key-store` (default `file:<dataDir>.keys`); checked before anything is written. */
  keyStore?: string;
  /** Keys already opened (tests); the server closes their key store. */
  keys?: DataKeys;
}

export interface PlatesearchServer {
  /** `http://HOST:PORT` */
  url: string;
  host: string;
  port: number;
  services: ServerServices;
  router: Router;
  /** Graceful stop; idempotent. Resolves when everything is flushed and closed. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<PlatesearchServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? createLogger();
  const config: ServerConfig = { ...kDefaultConfig, ...options.config };
  const shutdown = new AbortController();
  const hooks: IngestHook[] = [];
  const guards: RequestGuard[] = [];
  const teardowns: Array<() => Promise<void> | void> = [];

  const opened: Array<{ close(): Promise<void> }> = [];
  // what the modules started and what was opened, undone in reverse: at close, and when the start fails part way
  // (a port already taken must not leave timers, watchers or the data dir's lock behind a process that never serves)
  const undoAll = async (): Promise<void> => {
    shutdown.abort();
    for (const teardown of teardowns.reverse()) {
      try {
        await teardown();
      } catch (err) {
        log.error({ err }, 'teardown failed');
      }
    }
    teardowns.length = 0;
    await closeAll(opened, log);
  };
  let engine: Engine | undefined;
  const metrics = createMetrics(() => engine);
  // the key store first: a missing or wrong one refuses the start before anything is written
  const keys = options.keys ?? (await openDataDirKeys(options.dataDir, options.keyStore, { warn: (m) => log.warn(m) })).keys;
  opened.push({ close: () => keys.store.close() });
  try {
    const directory = options.directory ?? (await Directory.open(options.dataDir));
    opened.push(directory);
    // the one writer of the audit logs while the server runs; CLI actions reach them through its inbox
    const writerLock = await acquireAuditWriter(options.dataDir, 'server');
    opened.push({ close: async () => writerLock.release() });
    const auditTrail = options.auditTrail ?? (await AuditTrail.open(options.dataDir, { keys }));
    opened.push(auditTrail);
    const inbox = startInboxDrain(options.dataDir, auditTrail, log);
    opened.push(inbox);
    await inbox.first; // records left by commands that ran while no server did: in the logs before any request
    engine = options.engine ?? (await openEngine({ ...options.engineOptions, dataDir: options.dataDir, threads: options.threads, keys }));
    opened.push(engine);
    const corruptFiles = engine.stats().corruptFiles;
    // serving the healthy data; the damaged files stay as they are for inspection (also /healthz, /metrics)
    if (corruptFiles.length > 0) log.error({ corruptFiles }, 'data files failed their checks at load; serving the rest');

    const services: ServerServices = {
      dataDir: options.dataDir,
      keys,
      engine,
      directory,
      auditTrail,
      log,
      metrics: metrics.registry,
      shutdownSignal: shutdown.signal,
      config,
      onIngest: (hook) => void hooks.push(hook),
      onClose: (teardown) => void teardowns.push(teardown),
      onRequest: (guard) => void guards.push(guard),
      runGuards(ctx, route) {
        // a guard with nothing to check for this request returns no promise: then nothing is awaited
        const from = (first: number): Promise<void> | undefined => {
          for (let i = first; i < guards.length; i++) {
            const pending = guards[i]!(ctx, route);
            if (pending !== undefined) return pending.then(() => from(i + 1));
          }
          return undefined;
        };
        return from(0);
      },
      async emitIngest(event) {
        for (const hook of hooks) {
          try {
            await hook(event);
          } catch (err) {
            metrics.ingestHookFailures.inc();
            log.error({ err, reqId: event.requestId }, 'ingest hook failed');
          }
        }
      },
    };

    const modules = options.modules ?? routeModules;
    const router = new Router(modules.flatMap((m) => m.routes));
    for (const m of modules) await m.setup?.(services);

    let closing = false;
    const pipeline = new Pipeline({
      services, router, metrics,
      limiter: new RateLimiter(config.rateLimitPerSecond, config.rateLimitBurst),
      isShuttingDown: () => closing,
    });
    const server = createServer({ keepAliveTimeout: 5_000 }, pipeline.listener);
    server.on('clientError', (err, socket) => {
      // malformed HTTP never reaches a route: answer 400 if the socket can still take it
      if (socket.writable && !(err as NodeJS.ErrnoException).code?.startsWith('ECONN')) {
        const body = JSON.stringify({ error: { code: 'PS_BAD_INPUT', message: 'Malformed HTTP request' } });
        socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy();
      }
    });
    await listen(server, options.port ?? 8080, host);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info({ url, dataDir: options.dataDir }, 'listening');

    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= (async () => {
        closing = true;
        shutdown.abort();
        await stopAccepting(server);
        await undoAll();
        log.info('stopped');
        log.flush();
      })();
      return closed;
    };
    return { url, host, port, services, router, close };
  } catch (err) {
    await undoAll();
    throw err;
  }
}

/**
 * Appends the records other processes (CLI commands) put in the audit inbox: at start, then every
 * kInboxPollMs, one drain at a time; a last drain at close, before the trail closes.
 */
function startInboxDrain(dataDir: string, trail: AuditTrail, log: Logger): { first: Promise<void>; close(): Promise<void> } {
  let running: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    running ??= drainInbox(dataDir, trail)
      .then((n) => {
        if (n > 0) log.info({ records: n }, 'audit records of other processes appended');
      }, (err: unknown) => log.error({ err }, 'audit inbox could not be drained; retrying'))
      .finally(() => (running = undefined));
    return running;
  };
  const first = drain();
  const timer = setInterval(() => void drain(), kInboxPollMs);
  timer.unref();
  return {
    first,
    async close() {
      clearInterval(timer);
      await running;
      await drain();
    },
  };
}

async function closeAll(opened: Array<{ close(): Promise<void> }>, log: Logger): Promise<void> {
  // reverse order of opening: the engine first (it flushes), the audit trail and directory last
  for (const s of opened.reverse()) {
    try {
      await s.close();
    } catch (err) {
      log.error({ err }, 'close failed');
    }
  }
  opened.length = 0;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, closes idle keep-alive connections, waits for in-flight requests (bounded). */
function stopAccepting(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), kDrainTimeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    // connections that become idle after finishing their in-flight request are closed as they go
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  });
}
