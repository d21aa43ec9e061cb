/**
 * Isolation under concurrency: grants and revocations race with searches (plain and hot-list) from the
 * grantee. A search sent after the revocation's answer arrived must never carry a hit of the grantor;
 * searches sent while a grant stands see the grantor's reads (so the test can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sampleRead, startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ config: { rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 } });
  // pd-b holds the plate the investigators of pd-a look for; pd-a holds one too (always visible)
  const b = Array.from({ length: 200 }, (_, i) => sampleRead(i, { plate: 'SHR0001', camera: `b-${i}` }));
  const a = [sampleRead(1000, { plate: 'SHR0001', camera: 'a-0' })];
  expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: b })).status).toBe(200);
  expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: a })).status).toBe(200);
  await s.server.services.engine.seal('pd-b'); // half sealed, half live
  const more = Array.from({ length: 100 }, (_, i) => sampleRead(500 + i, { plate: 'SHR0001', camera: `b-${500 + i}` }));
  expect((await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: more })).status).toBe(200);
});
afterAll(async () => {
  await s?.close();
});

describe('grants and revocations racing with searches', () => {
  it('no hit of the grantor in any search sent after the revoke answer (40 rounds, 4 concurrent searchers)', async () => {
    let leaks = 0, sharedSeen = 0, searches = 0;
    const leaksDetail: string[] = [];
    for (let round = 0; round < 40; round++) {
      const grant = await call(s.url, 'PUT', '/v1/sharing/pd-a', { token: s.token('pd-b', 'admin'), json: {} });
      expect(grant.status).toBe(200);
      let revokedAt = Infinity;
      let stop = false;
      const searcher = async (kind: 'search' | 'hotlist'): Promise<void> => {
        while (!stop) {
          const sentAt = performance.now();
          const res = kind === 'search'
            ? await call(s.url, 'POST', '/v1/search', { token: s.token('pd-a', 'investigator'), json: { plate: 'SHR0001', limit: 10_000, purpose: 'race', case: 'r' } })
            : await call(s.url, 'POST', '/v1/search/hotlist', { token: s.token('pd-a', 'investigator'), json: { plates: ['SHR0001'], limitPerPlate: 10_000, purpose: 'race', case: 'r' } });
          expect(res.status).toBe(200);
          searches++;
          const hits: Array<{ tenant: string }> = kind === 'search' ? res.json.hits : (res.json.matches[0]?.hits ?? []);
          const fromB = hits.filter((h) => h.tenant === 'pd-b').length;
          if (fromB > 0) sharedSeen++;
          if (fromB > 0 && sentAt > revokedAt) {
            leaks++;
            leaksDetail.push(`round ${round}: ${kind} sent ${(sentAt - revokedAt).toFixed(2)} ms after the revoke answer saw ${fromB} pd-b hits`);
          }
          // stop a few searches after the revoke
          if (sentAt > revokedAt + 15) return;
        }
      };
      const searchers = [searcher('search'), searcher('search'), searcher('hotlist'), searcher('search')];
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 25));
      const revoke = await call(s.url, 'DELETE', '/v1/sharing/pd-a', { token: s.token('pd-b', 'admin') });
      revokedAt = performance.now();
      expect(revoke.status).toBe(204);
      const guard = setTimeout(() => (stop = true), 5000);
      await Promise.all(searchers);
      clearTimeout(guard);
    }
    if (process.env.RELIABILITY_VERBOSE) console.log(JSON.stringify({ rounds: 40, searches, sharedSeen, leaks }));
    expect(leaksDetail).toEqual([]);
    expect(leaks).toBe(0);
    expect(sharedSeen).toBeGreaterThan(0);
    expect(searches).toBeGreaterThan(200);
  }, 60_000);
});
