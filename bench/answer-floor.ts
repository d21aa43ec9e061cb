/**
 * The floor under bench:http's one-client overhead (issue 12): what the least server can do for one answer,
 * on this machine, with the same three things a platesearch search answer must do after its engine —
 * read and parse the request's JSON body, make its audit record durable before the first byte of the answer
 * (an O_DSYNC append of the record's line to a log, then an O_DSYNC overwrite of a 64-byte head marker, on a
 * kept writer thread woken through Atomics, the main thread polling for the done word: how
 * src/server/audit/writer.ts commits a lone request's record), and send the answer's bytes — and nothing
 * else: no engine (a busy wait of `--engine` ms stands for it, reported as `tookMs`), no seal, no text (the
 * answer is made once and sent again each time; `--text` makes a stand-in of it while the record is written, as
 * platesearch does, to see what that costs the writes), no routing, no tenancy.
 *
 *   node dist/bench/answer-floor.js [--seconds 3] [--engine 2.5] [--record 2080] [--answer 232000] [--rounds 3] [--text]
 *     [--writes sequential|line|parallel]
 *
 * For each round, four servers' variants, one closed-loop client on a keep-alive connection (the raw
 * client of bench:http): the answer of `--answer` bytes or of 600, with the durable record or without.
 * Overhead = latency − tookMs, as bench:http reports it. Defaults: the hot list of 100 in bench:http
 * (~1,000 hits, ~232 KB, a record line of ~2 KB with its 100 plates, ~2.5 ms in the engine).
 *
 * If the floor of the hot list's shape is near or above 1 ms, no work in platesearch's own code can bring
 * that kind's overhead under it on this machine: only a faster disk, or a weaker record contract.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { RawConnection } from './http/raw-client.js';
import { percentile } from './http/latency.js';

const { values: o } = parseArgs({
  options: {
    serve: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    engine: { type: 'string', default: '2.5' },
    record: { type: 'string', default: '2080' },
    answer: { type: 'string', default: '232000' },
    rounds: { type: 'string', default: '3' },
    text: { type: 'boolean', default: false },
    writes: { type: 'string', default: 'sequential' },
  },
});

// the writer thread: one job at a time through shared memory, each an O_DSYNC append then an O_DSYNC overwrite
const kWriter = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const ctl = new Int32Array(workerData.ctl);
const line = Buffer.alloc(workerData.record, 0x61); line[line.length - 1] = 10;
const marker = Buffer.alloc(64, 0x62);
let seen = 0, at = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (workerData.line) {
    writeSync(workerData.log, line, 0, line.length, at);
    at += line.length;
  }
  if (workerData.marker) writeSync(workerData.head, marker, 0, 64, 0);
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}`;

/**
 * How the record is made durable (`--writes`): `sequential` is platesearch's contract (the line, then the marker
 * covering it, on one thread); the others are what weaker contracts would cost, for comparison only: `line` the line
 * alone (the marker left for after the answer), `parallel` the line and the marker on two threads at once (a marker
 * that may reach the disk before its line).
 */
type Writes = 'sequential' | 'line' | 'parallel';

// --text: the answer's text made while the record is written, as platesearch does: each byte stored one at a time
// into a fresh buffer (~2.5 ns a byte, the cost of src/server/json-bytes.ts's text of a hot-list answer), thrown away
let textSink = 0;
function writeText(n: number): void {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 0x30 + ((i * 7) & 15);
  textSink ^= b[n >> 1]!;
}

/** The server: answers POST /?durable=0|1&answer=N after the busy wait, the record durable first when asked. */
async function serve(dir: string, engineMs: number, record: number, writes: Writes): Promise<void> {
  const flags = constants.O_CREAT | constants.O_WRONLY | constants.O_DSYNC;
  const log = openSync(join(dir, 'log.jsonl'), flags);
  const head = openSync(join(dir, 'head'), flags);
  const writer = (line: boolean, marker: boolean): Int32Array => {
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    new Worker(kWriter, { eval: true, workerData: { ctl: ctl.buffer, log, head, record, line, marker } }).unref();
    return ctl;
  };
  const ctls = writes === 'parallel' ? [writer(true, false), writer(false, true)] : [writer(true, writes === 'sequential')];
  const done = (n: number): boolean => ctls.every((c) => Atomics.load(c, 1) === n);
  const answers = new Map<number, Buffer>();
  const answerOf = (n: number, tookMs: number): Buffer => {
    let a = answers.get(n);
    if (!a) answers.set(n, (a = Buffer.alloc(n, 0x20)));
    const tail = Buffer.from(`,"tookMs":${tookMs}}`);
    tail.copy(a, n - tail.length);
    a[0] = 0x7b;
    return a;
  };
  let jobs = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const url = new URL(req.url ?? '/', 'http://x');
      const t0 = performance.now();
      while (performance.now() - t0 < engineMs);
      const tookMs = Math.round((performance.now() - t0) * 1000) / 1000;
      const send = (): void => {
        const body = answerOf(Number(url.searchParams.get('answer')), tookMs);
        res.writeHead(200, ['content-type', 'application/json; charset=utf-8', 'content-length', body.length] as unknown as string[]);
        res.end(body);
      };
      if (url.searchParams.get('durable') !== '1') return send();
      const n = ++jobs;
      for (const c of ctls) {
        Atomics.store(c, 0, n);
        Atomics.notify(c, 0, 1);
      }
      if (o.text) writeText(Number(url.searchParams.get('answer')));
      // the lone request's watch (writer.ts settle): poll up to 2 ms, then a timer's
      const until = performance.now() + 2;
      while (!done(n) && performance.now() < until);
      if (done(n)) return send();
      const later = (): void => {
        if (done(n)) send();
        else setTimeout(later, 0);
      };
      later();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`${typeof a === 'object' && a ? a.port : 0}\n`);
  });
  process.on('SIGTERM', () => {
    closeSync(log);
    closeSync(head);
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const engineMs = Number(o.engine), record = Number(o.record), answer = Number(o.answer);
  const writes = o.writes as Writes;
  if (!['sequential', 'line', 'parallel'].includes(writes)) throw new Error(`--writes: sequential, line or parallel, not ${writes}`);
  if (o.serve !== undefined) return serve(o.serve, engineMs, record, writes);
  const dir = mkdtempSync(join(tmpdir(), 'answer-floor-'));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dir, '--engine', String(engineMs), '--record', String(record), '--writes', writes, ...(o.text ? ['--text'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const conn = new RawConnection('127.0.0.1', port);
  // the body of bench:http's hot list of 100: 100 seven-character plates, purpose and case
  const body = JSON.stringify({
    plates: Array.from({ length: 100 }, (_, i) => `AB${String(10000 + i)}`), purpose: 'investigation', case: 'CASE-1',
    from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z',
  });
  const head = (path: string): string => `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\nauthorization: Bearer x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const variants = [[answer, 1], [answer, 0], [600, 1], [600, 0]] as const;
  console.log(`answer floor: engine ${engineMs} ms busy wait, record line ${record} B, writes ${writes}${o.text ? ', the text made during the record' : ''}, one client, ${o.seconds} s a variant; overhead p50 / p90 ms (latency p50)`);
  for (let r = 1; r <= Number(o.rounds); r++) {
    const row: string[] = [];
    for (const [bytes, durable] of variants) {
      const path = `/?durable=${durable}&answer=${bytes}`;
      const over: number[] = [], lat: number[] = [];
      const until = performance.now() + Number(o.seconds) * 1000, warm = performance.now() + 500;
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await conn.request(head(path), body);
        const ms = performance.now() - t0;
        const m = /"tookMs":([0-9.]+)/.exec(res.body.toString('latin1', res.body.length - 40));
        if (t0 < warm || !m) continue;
        lat.push(ms);
        over.push(ms - Number(m[1]));
      }
      over.sort((a, b) => a - b);
      lat.sort((a, b) => a - b);
      row.push(`${bytes} B ${durable ? 'durable' : 'no record'}: ${percentile(over, 50).toFixed(3)} / ${percentile(over, 90).toFixed(3)} (${percentile(lat, 50).toFixed(3)})`);
    }
    console.log(`round ${r}: ${row.join('; ')}`);
  }
  conn.close();
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

await main();
