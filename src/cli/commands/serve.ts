/**
 * `platesearch serve --data-dir D [--host 127.0.0.1] [--port 8080] [--threads N]`: the HTTP server.
 * Prints exactly one stdout line, `listening on http://HOST:PORT`, once it accepts requests (logs go to
 * stderr). SIGTERM/SIGINT: stop accepting, finish in-flight requests, flush, exit 0.
 */
import { parseArgs } from 'node:util';
import { BadInput } from '../../errors.js';
import { kDefaultConfig, startServer, type PlatesearchServer } from '../../server/server.js';
import type { ServerConfig } from '../../server/route.js';
import type { EngineOptions } from '../../engine/engine.js';
import type { Command } from '../command.js';
import { tileOrigin } from '../../server/console/csp.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch serve --data-dir D [--key-store K] [--host 127.0.0.1] [--port 8080] [--threads N]
                        [--query-budget-ms ${kDefaultConfig.queryBudgetMs}] [--rate-limit ${kDefaultConfig.rateLimitPerSecond}] [--rate-burst ${kDefaultConfig.rateLimitBurst}]
                        [--seal-rows 1000000] [--seal-age-ms 600000] [--seal-idle-ms 5000] [--tile-url URL]

Starts the HTTP server on data dir D. --port 0 picks a free port. Prints one line
"listening on http://HOST:PORT" once it accepts requests; logs (JSON) go to stderr, level $LOG_LEVEL.
--threads: engine worker threads (default: one per core).
--query-budget-ms: time budget of one search; over it the search is cancelled and answered 503.
--rate-limit / --rate-burst: per-user token bucket (requests per second, bucket size); over it, 429.
--seal-rows / --seal-age-ms: seal a tenant's live reads into shards at this many reads, or when the
oldest is this old (0: no sealing by age, nor when idle). Small values exercise sealing (crash and soak tests).
--seal-idle-ms: seal a tenant holding 65,536 live reads or more once none has arrived for this long (0: never).
--tile-url: map tiles for the web console, e.g. https://tiles.example.org/{z}/{x}/{y}.png (its origin is
allowed by the console's CSP for images only); without it, or when tiles fail, the console draws the
offline state and county outlines with a "basemap offline" badge.
SIGTERM or SIGINT: stops accepting, finishes in-flight requests, closes alert streams, flushes, exits 0.
A start that fails (the port taken, the data dir in use, a key store missing) says why on stderr and exits 1,
holding nothing.
${keyStoreUsage}`;

function integer(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw BadInput(`${flag} must be an integer in [${min}, ${max}]`);
  }
  return n;
}

export interface ServeArgs {
  dataDir: string;
  keyStore?: string;
  host: string;
  port: number;
  threads?: number;
  config: Partial<ServerConfig>;
  engineOptions: Omit<EngineOptions, 'dataDir' | 'threads'>;
}

export function parseServeArgs(args: string[]): ServeArgs {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      threads: { type: 'string' },
      'query-budget-ms': { type: 'string' },
      'rate-limit': { type: 'string' },
      'rate-burst': { type: 'string' },
      'seal-rows': { type: 'string' },
      'seal-age-ms': { type: 'string' },
      'seal-idle-ms': { type: 'string' },
      'tile-url': { type: 'string' },
      ...keyStoreOption,
    },
    strict: true,
    allowPositionals: false,
  });
  const dataDir = values['data-dir'];
  if (!dataDir) throw BadInput('--data-dir is required');
  const config: Partial<ServerConfig> = {};
  const budget = integer(values['query-budget-ms'], '--query-budget-ms', 1, 3_600_000);
  if (budget !== undefined) config.queryBudgetMs = budget;
  const rate = integer(values['rate-limit'], '--rate-limit', 0, 1_000_000);
  if (rate !== undefined) config.rateLimitPerSecond = rate;
  const burst = integer(values['rate-burst'], '--rate-burst', 1, 10_000_000);
  if (burst !== undefined) config.rateLimitBurst = burst;
  if (values['tile-url'] !== undefined) {
    tileOrigin(values['tile-url']); // refuses a bad template now, not in the browser
    config.tileUrl = values['tile-url'];
  }
  const engineOptions: Omit<EngineOptions, 'dataDir' | 'threads'> = {};
  const sealRows = integer(values['seal-rows'], '--seal-rows', 1, 1 << 30);
  if (sealRows !== undefined) engineOptions.sealRows = sealRows;
  const sealAgeMs = integer(values['seal-age-ms'], '--seal-age-ms', 0, 86_400_000);
  if (sealAgeMs !== undefined) engineOptions.sealAgeMs = sealAgeMs;
  const sealIdleMs = integer(values['seal-idle-ms'], '--seal-idle-ms', 0, 86_400_000);
  if (sealIdleMs !== undefined) engineOptions.sealIdleMs = sealIdleMs;
  return {
    dataDir,
    ...(values['key-store'] !== undefined ? { keyStore: values['key-store'] } : {}),
    engineOptions,
    host: values.host ?? '127.0.0.1',
    port: integer(values.port, '--port', 0, 65535) ?? 8080,
    threads: integer(values.threads, '--threads', 0, 256),
    config,
  };
}

/**
 * Runs a started server until SIGTERM/SIGINT, then closes it gracefully. Resolves to the exit code.
 * A second signal while closing exits at once (1).
 */
export function runUntilSignal(server: PlatesearchServer): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`platesearch: ${signal} again, exiting without a clean shutdown\n`);
        process.exit(1);
      }
      stopping = true;
      server.services.log.info({ signal }, 'shutting down');
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`platesearch: shutdown failed: ${String(err)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Exit once the shutdown is done, even if a library left a handle open (bounded by `graceMs`). */
export function exitSoon(code: number, graceMs = 2_000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), graceMs).unref();
}

export const command: Command = {
  summary: 'start the HTTP server',
  usage,
  async run(args, context) {
    let parsed: ServeArgs;
    try {
      parsed = parseServeArgs(args);
    } catch (err) {
      process.stderr.write(`platesearch serve: ${(err as Error).message}\n${usage}\n`);
      return 2;
    }
    const keys = await (context?.openKeys ?? openCommandKeys)('serve', parsed.dataDir, parsed.keyStore);
    const server = await startServer({ ...parsed, keys });
    process.stdout.write(`listening on ${server.url}\n`);
    const code = await runUntilSignal(server);
    exitSoon(code);
    return code;
  },
};
