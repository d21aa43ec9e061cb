/**
 * A throwaway PostgreSQL 15 server for the peer run: initdb on a temp dir (C locale, UTF8, trust on
 * 127.0.0.1 only), started on a free port, stopped and deleted afterwards, also when the run fails or is
 * interrupted. PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user.
 *
 * Settings are those of a DBA tuning a dedicated box for read-mostly analytics: shared_buffers sized to hold
 * the table and its indexes (capped), generous work_mem, parallel query matched to the harness's thread
 * count, SSD costs. Durability is off (fsync, full_page_writes, synchronous_commit): it speeds up loading
 * and does not touch query timing. JIT is off: on this workload it adds compile time to mid-sized queries
 * and saves nothing on the index probes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const kPostgresBin = '/usr/lib/postgresql/15/bin';
// How long a fresh cluster may take to accept connections.
const kStartTimeoutMs = 60_000;
// How long a fast shutdown may take before the server is killed.
const kStopTimeoutMs = 30_000;

export interface PostgresServerOptions {
  /** e.g. `2GB`. */
  sharedBuffers: string;
  /** Parallel workers a query may use beside its leader process. */
  parallelWorkers: number;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Under root, the `postgres` account; else the current user. */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PostgresServer {
  private exited = false;
  private readonly onExit = () => this.killNow();

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
    process.once('exit', this.onExit);
  }

  /** initdb, start, wait until it accepts connections. Cleans up after itself if any step fails. */
  static async start(options: PostgresServerOptions): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), 'platesearch-pg-'));
    const user = runAs();
    let child: ChildProcess | undefined;
    try {
      if (user) chownSync(dir, user.uid, user.gid);
      const data = join(dir, 'data');
      execFileSync(join(kPostgresBin, 'initdb'),
        ['-D', data, '--locale=C', '-E', 'UTF8', '-U', 'postgres', '--auth=trust', '--no-sync'],
        { stdio: ['ignore', 'ignore', 'pipe'], ...user });
      const port = await freePort();
      const settings: Record<string, string> = {
        listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir,
        shared_buffers: options.sharedBuffers, effective_cache_size: '8GB',
        work_mem: '64MB', maintenance_work_mem: '1GB',
        max_parallel_workers_per_gather: String(options.parallelWorkers),
        max_parallel_maintenance_workers: String(options.parallelWorkers),
        random_page_cost: '1.1', effective_io_concurrency: '200', jit: 'off',
        fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off',
        wal_level: 'minimal', max_wal_senders: '0', max_wal_size: '16GB', checkpoint_timeout: '1h',
        autovacuum: 'off', timezone: 'UTC', log_min_messages: 'warning',
      };
      const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const log = openSync(join(dir, 'postgres.log'), 'a');
      if (user) chownSync(join(dir, 'postgres.log'), user.uid, user.gid);
      child = spawn(join(kPostgresBin, 'postgres'), args, { stdio: ['ignore', log, log], ...user });
      closeSync(log);
      const server = new PostgresServer(dir, port, child);
      await server.waitReady();
      return server;
    } catch (err) {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + kStartTimeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`postgres exited while starting:\n${this.logTail()}`);
      const client = this.client();
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw new Error(`postgres did not start within ${kStartTimeoutMs} ms:\n${this.logTail()}`);
        await sleep(100);
      }
    }
  }

  /** A new, unconnected client for the server's `postgres` database. */
  client(): pg.Client {
    return new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
  }

  /** psql arguments that reach this server. */
  psqlArgs(): string[] {
    return ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', 'postgres', '-X', '-q', '-v', 'ON_ERROR_STOP=1'];
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'postgres.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Fast shutdown (SIGINT: abort transactions, checkpoint skipped as fsync is off), then delete everything. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.onExit);
    if (!this.exited) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((r) => (timer = setTimeout(() => r('timeout'), kStopTimeoutMs)));
      if ((await Promise.race([exited, timeout])) === 'timeout') this.child.kill('SIGKILL');
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort when the process exits without `stop()`: immediate shutdown, delete the directory. */
  private killNow(): void {
    if (!this.exited) this.child.kill('SIGQUIT');
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // the server may still hold files for a moment; the temp dir is the OS's to clean then
    }
  }
}
