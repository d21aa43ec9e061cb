/**
 * The requests' AbortControllers kept for the next requests (src/server/request-signals.ts): a handler
 * always gets a signal that is not aborted, has no listener and no deadline of an earlier request; a
 * controller is never shared by two requests in flight, never reused after a handler that threw; the time
 * budget and a client going away still abort the request they belong to, and only that one.
 */
import { getEventListeners } from 'node:events';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { attachDeadline, QueryBudget } from '../src/query/budget.js';
import { giveBackController, takeController } from '../src/server/request-signals.js';
import type { RequestContext, RouteModule } from '../src/server/route.js';
import { routeModules } from '../src/server/routes/index.js';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

/** Every signal a handler got, in order, with what the handler saw of it on entry. */
interface Seen {
  signal: AbortSignal;
  mode: string;
  abortedOnEntry: boolean;
  listenersOnEntry: number;
  reason?: unknown;
}

const kBudgetMs = 80;

function probeModule(seen: Seen[], inUse: Set<AbortSignal>, clashes: string[]): RouteModule {
  const handler = async (ctx: RequestContext) => {
    const mode = ctx.query.get('mode') ?? 'ok';
    const signal = ctx.signal;
    const entry: Seen = { signal, mode, abortedOnEntry: signal.aborted, listenersOnEntry: getEventListeners(signal, 'abort').length };
    seen.push(entry);
    if (inUse.has(signal)) clashes.push(ctx.requestId);
    inUse.add(signal);
    try {
      if (mode === 'throw') throw new TypeError('planted handler failure');
      if (mode === 'leak') signal.addEventListener('abort', () => {});
      if (mode === 'yield') await sleep(Number(ctx.query.get('ms') ?? 1));
      if (mode === 'late-check') {
        // no budget on this route: a deadline left from an earlier request would throw here
        await sleep(3 * kBudgetMs);
        QueryBudget.of(signal)?.check();
      }
      if (mode === 'wait') {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 10_000);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            entry.reason = signal.reason;
            reject(signal.reason);
          }, { once: true });
        });
      }
      return { json: { mode } };
    } finally {
      inUse.delete(signal);
    }
  };
  return {
    routes: [
      { method: 'GET', path: '/v1/probe/budgeted', roles: ['auditor'], action: 'probe', timeBudgetMs: kBudgetMs, handler },
      { method: 'GET', path: '/v1/probe/unbudgeted', roles: ['auditor'], action: 'probe', timeBudgetMs: null, handler },
    ],
  };
}

async function probeServer() {
  const seen: Seen[] = [];
  const inUse = new Set<AbortSignal>();
  const clashes: string[] = [];
  ts = await startTestServer({ modules: [...routeModules, probeModule(seen, inUse, clashes)] });
  const token = ts.token('pd-a', 'auditor');
  const get = (path: string) => call(ts!.url, 'GET', path, { token });
  return { seen, clashes, get, token };
}

describe('request-signals.ts alone', () => {
  it('keeps a controller only as a fresh one would be: not aborted, no listener, no onabort; its deadline taken off', () => {
    const spoiled: AbortController[] = [];
    const aborted = takeController();
    aborted.abort(new Error('gone'));
    const listened = takeController();
    listened.signal.addEventListener('abort', () => {});
    const onabort = takeController();
    onabort.signal.onabort = () => {};
    spoiled.push(aborted, listened, onabort);
    for (const c of spoiled) giveBackController(c);
    const clean = takeController();
    attachDeadline(clean.signal, 0, () => new Error('spent'));
    expect(() => QueryBudget.of(clean.signal)!.check()).toThrow('spent');
    giveBackController(clean);
    const again = Array.from({ length: 8 }, () => takeController());
    expect(again).toContain(clean);
    for (const c of again) {
      expect(spoiled).not.toContain(c);
      expect(c.signal.aborted).toBe(false);
      expect(() => QueryBudget.of(c.signal)!.check()).not.toThrow();
    }
  });
});

describe('request signals kept for the next requests', () => {
  it('a kept controller carries no deadline of the request before (a route without a budget after one with)', async () => {
    const { seen, get } = await probeServer();
    expect((await get('/v1/probe/budgeted?mode=ok')).status).toBe(200);
    const late = await get('/v1/probe/unbudgeted?mode=late-check');
    expect(late.status).toBe(200);
    // the second request did run on the first one's controller: this is what the test is about
    expect(seen[1]!.signal).toBe(seen[0]!.signal);
  });

  it('a signal left with a listener, or seen by a handler that threw, is not handed out again', async () => {
    const { seen, get } = await probeServer();
    expect((await get('/v1/probe/budgeted?mode=leak')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get('/v1/probe/budgeted?mode=ok')).status).toBe(200);
    expect((await get('/v1/probe/budgeted?mode=throw')).status).toBe(500);
    for (let i = 0; i < 3; i++) expect((await get('/v1/probe/budgeted?mode=ok')).status).toBe(200);
    const leakAt = seen.findIndex((s) => s.mode === 'leak');
    const threwAt = seen.findIndex((s) => s.mode === 'throw');
    const later = seen.filter((s) => s.mode === 'ok');
    expect(later.length).toBe(6);
    for (const s of seen.slice(leakAt + 1)) expect(s.signal).not.toBe(seen[leakAt]!.signal);
    // (an ok before the throw may have lent it its controller)
    for (const s of seen.slice(threwAt + 1)) expect(s.signal).not.toBe(seen[threwAt]!.signal);
    for (const s of later) {
      expect(s.listenersOnEntry).toBe(0);
      expect(s.abortedOnEntry).toBe(false);
    }
    // and the ok ones do go round
    expect(new Set(later.map((s) => s.signal)).size).toBeLessThan(later.length);
  });

  it('the budget still aborts its own request (503 PS_QUERY_TIMEOUT, audited), and the next request starts clean', async () => {
    const { seen, get } = await probeServer();
    for (let round = 0; round < 3; round++) {
      expect((await get('/v1/probe/budgeted?mode=ok')).status).toBe(200);
      const t0 = Date.now();
      const slow = await get('/v1/probe/budgeted?mode=wait');
      expect(slow.status).toBe(503);
      expect(slow.json.error.code).toBe('PS_QUERY_TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(5_000);
      const after = await get('/v1/probe/budgeted?mode=ok');
      expect(after.status).toBe(200);
    }
    const waits = seen.filter((s) => s.mode === 'wait');
    expect(waits.map((s) => (s.reason as { code?: string }).code)).toEqual(['PS_QUERY_TIMEOUT', 'PS_QUERY_TIMEOUT', 'PS_QUERY_TIMEOUT']);
    for (const s of seen) expect(s.abortedOnEntry).toBe(false);
    // an aborted controller is never handed out again (an ok before a wait may have lent it its own)
    seen.forEach((s, i) => {
      if (s.mode === 'ok') expect(seen.slice(0, i).some((w) => w.mode === 'wait' && w.signal === s.signal)).toBe(false);
    });
    const log = await readAudit(ts!.dataDir, 'pd-a');
    expect(log.filter((r) => r.action === 'probe').map((r) => r.status)).toEqual([200, 503, 200, 200, 503, 200, 200, 503, 200]);
  });

  it('a client going away aborts its own request only (PS_CLIENT_CLOSED), not one that took a kept controller', async () => {
    const { seen, get, token } = await probeServer();
    // fill the pool, so the requests below run on kept controllers
    await Promise.all(Array.from({ length: 4 }, () => get('/v1/probe/unbudgeted?mode=ok')));
    const u = new URL(ts!.url);
    const gone = request({ host: u.hostname, port: u.port, path: '/v1/probe/unbudgeted?mode=wait', headers: { authorization: `Bearer ${token}` } });
    gone.on('error', () => {});
    gone.end();
    const other = get('/v1/probe/unbudgeted?mode=yield&ms=400');
    await sleep(150);
    gone.destroy();
    expect((await other).status).toBe(200);
    for (let i = 0; i < 100 && !seen.find((s) => s.mode === 'wait')?.reason; i++) await sleep(20);
    const waited = seen.find((s) => s.mode === 'wait')!;
    expect((waited.reason as { code?: string }).code).toBe('PS_CLIENT_CLOSED');
    const yielded = seen.find((s) => s.mode === 'yield')!;
    expect(yielded.signal.aborted).toBe(false);
    expect((await get('/v1/probe/unbudgeted?mode=ok')).status).toBe(200);
    expect(seen.at(-1)!.abortedOnEntry).toBe(false);
  });

  it('no controller is shared by two requests in flight (rounds of concurrent requests)', async () => {
    const { seen, clashes, get } = await probeServer();
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => get(`/v1/probe/budgeted?mode=yield&ms=${(i * 7) % 13}`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    }
    expect(clashes).toEqual([]);
    expect(seen.length).toBe(240);
    // reused: fewer distinct signals than requests
    expect(new Set(seen.map((s) => s.signal)).size).toBeLessThan(120);
  });
});
