/**
 * Coded errors of the pipeline: 404 / 405 (with Allow), 429 with Retry-After, the query time budget
 * (503 PS_QUERY_TIMEOUT, still audited), a handler bug (500 PS_INTERNAL, never a crash), malformed HTTP.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import { openEngine } from '../src/engine/index.js';
import type { RouteModule } from '../src/server/route.js';
import { routeModules } from '../src/server/routes/index.js';
import { call, makeDataDir, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

const justified = { purpose: 'p', case: 'c' };

describe('routing errors', () => {
  it('unknown paths → 404 PS_NOT_FOUND (with or without a token); known path, wrong method → 405 with Allow', async () => {
    ts = await startTestServer();
    const inv = ts.token('pd-a', 'investigator');
    // `/` is the web console's page (test/console-http.test.ts); `/ui/` without a file name is not a route
    for (const path of ['/v1/nope', '/v1/search/', '/v1', '/ui/', '/v2/search', '/v1/search/hotlist/x', '/v1//search']) {
      const res = await call(ts.url, 'GET', path, { token: inv });
      expect(res.status, path).toBe(404);
      expect(res.json.error.code).toBe('PS_NOT_FOUND');
    }
    expect((await call(ts.url, 'GET', '/v1/nope')).status).toBe(404);
    const res = await call(ts.url, 'GET', '/v1/search', { token: inv });
    expect(res.status).toBe(405);
    expect(res.json.error.code).toBe('PS_METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('POST');
    const put = await call(ts.url, 'PUT', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [] });
    expect(put.status).toBe(405);
    const head = await call(ts.url, 'HEAD', '/healthz');
    expect(head.status).toBe(200);
  });

  it('every answer carries X-Request-Id; every error body is {"error": {code, message}}', async () => {
    ts = await startTestServer();
    const a = await call(ts.url, 'GET', '/v1/nope');
    const b = await call(ts.url, 'GET', '/v1/nope');
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    expect(Object.keys(a.json)).toEqual(['error']);
    expect(Object.keys(a.json.error).sort()).toEqual(['code', 'message']);
  });

  it('malformed HTTP gets a 400 and the server keeps serving', async () => {
    ts = await startTestServer();
    const { port } = new URL(ts.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1', () => sock.write('GARBAGE / HTTP/9.9\r\n\r\n'));
      let text = '';
      sock.on('data', (d) => (text += d));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await call(ts.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('over the per-user bucket → 429 PS_RATE_LIMITED with Retry-After; other users are not affected; audited as denied', async () => {
    ts = await startTestServer({ config: { rateLimitPerSecond: 1, rateLimitBurst: 3 } });
    const inv = ts.token('pd-a', 'investigator');
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const res = await call(ts.url, 'POST', '/v1/search', { token: inv, json: justified });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(limited!.json.error.code).toBe('PS_RATE_LIMITED');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'dispatcher'), json: justified })).status).toBe(200);
    const log = await readAudit(ts.dataDir, 'pd-a');
    expect(log.filter((r) => r.status === 429).map((r) => r.outcome)).toEqual(['denied', 'denied']);
  });
});

/** The real engine, with searches that take `delayMs` unless their signal aborts first. */
async function slowEngine(dataDir: string, delayMs: number): Promise<Engine> {
  const engine = await openEngine({ dataDir, threads: 0 });
  const wait = (signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, delayMs);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
  return Object.assign(Object.create(engine) as Engine, {
    async search(...args: Parameters<Engine['search']>) {
      await wait(args[2]);
      return engine.search(...args);
    },
    close: () => engine.close(),
  });
}

describe('query time budget', () => {
  it('a search over its budget is cancelled and answered 503 PS_QUERY_TIMEOUT; the record says so', async () => {
    const dataDir = await makeDataDir();
    const engine = await slowEngine(dataDir, 5_000);
    ts = await startTestServer({ dataDir, engine, config: { queryBudgetMs: 200 } });
    const t0 = Date.now();
    const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: justified });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('PS_QUERY_TIMEOUT');
    const r = (await readAudit(dataDir, 'pd-a')).at(-1)!;
    expect(r).toMatchObject({ action: 'search', status: 503, outcome: 'error' });
    // the server is fine afterwards
    expect((await call(ts.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('handler bugs', () => {
  it('an uncoded exception is 500 PS_INTERNAL with no detail, audited as error; the server keeps serving', async () => {
    const buggy: RouteModule = {
      routes: [{
        method: 'GET', path: '/v1/boom', roles: ['auditor'], action: 'boom',
        handler() {
          throw new TypeError('secret internals');
        },
      }],
    };
    ts = await startTestServer({ modules: [...routeModules, buggy] });
    const res = await call(ts.url, 'GET', '/v1/boom', { token: ts.token('pd-a', 'auditor') });
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe('PS_INTERNAL');
    expect(res.text).not.toContain('secret');
    expect((await readAudit(ts.dataDir, 'pd-a')).at(-1)).toMatchObject({ action: 'boom', status: 500, outcome: 'error' });
    expect((await call(ts.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('streams: the audit record is written before the head; a stream is closed at shutdown', async () => {
    let recordsAtFirstByte = -1;
    let dataDir = '';
    const streaming: RouteModule = {
      routes: [{
        method: 'GET', path: '/v1/ticks', roles: ['dispatcher'], action: 'ticks', timeBudgetMs: null,
        handler: (ctx) => ({
          contentType: 'text/event-stream',
          async stream(sink) {
            recordsAtFirstByte = (await readAudit(dataDir, ctx.principal.tenant)).length;
            await sink.write('event: tick\ndata: 1\n\n');
            if (!sink.signal.aborted) await new Promise((r) => sink.signal.addEventListener('abort', r, { once: true }));
          },
        }),
      }],
    };
    ts = await startTestServer({ modules: [...routeModules, streaming] });
    dataDir = ts.dataDir;
    const { request } = await import('undici');
    const res = await request(ts.url + '/v1/ticks', { headers: { authorization: `Bearer ${ts.token('pd-a', 'dispatcher')}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const closing = ts.close();
    const text = await res.body.text();
    await closing;
    expect(text).toBe('event: tick\ndata: 1\n\n');
    expect(recordsAtFirstByte).toBe(1);
  });
});
