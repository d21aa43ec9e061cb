/**
 * v1.1 answer formats of `POST /v1/search` over HTTP (src/server/answer-format.ts): `Accept:
 * application/msgpack` is the JSON answer as MessagePack; `Accept: application/x-ndjson` streams the head
 * line `{total, truncated, queryId, next}` and then one hit per line; negotiation by q; errors stay JSON;
 * each is audited like a JSON search.
 */
import { unpack } from 'msgpackr';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, readAudit, sampleRead, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;

async function raw(body: unknown, accept?: string): Promise<{ status: number; type: string; bytes: Buffer; requestId: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ts.token('pd-a', 'investigator')}`, 'content-type': 'application/json' };
  if (accept !== undefined) headers.accept = accept;
  const res = await request(`${ts.url}/v1/search`, { method: 'POST', headers, body: JSON.stringify(body) });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, type: String(res.headers['content-type']), bytes, requestId: String(res.headers['x-request-id']) };
}

function ndjsonLines(bytes: Buffer): Array<Record<string, unknown>> {
  const text = bytes.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The JSON answer without what differs between two runs of one search. */
function comparable(a: Record<string, unknown>): Record<string, unknown> {
  const { queryId: _q, tookMs: _t, ...rest } = a;
  return rest;
}

beforeAll(async () => {
  ts = await startTestServer();
  const reads = Array.from({ length: 300 }, (_, i) => sampleRead(i, { plate: i % 3 === 0 ? 'FMT123' : `FMT${i % 40}`, make: i % 2 ? 'Ford' : 'TOYOTA' }));
  const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: reads });
  expect(res.json.accepted).toBe(300);
});
afterAll(async () => {
  await ts?.close();
});

const kBodies: Array<Record<string, unknown>> = [
  { plate: 'FMT123', purpose: 'p', case: 'c', limit: 7 },
  { plate: 'FMT*', purpose: 'p', case: 'c', limit: 10000 },
  { plate: 'FMT12', match: 'fuzzy', maxEdits: 2, makes: ['ford'], purpose: 'p', case: 'c', limit: 5 },
  { plate: 'NOPE', purpose: 'p', case: 'c' },
];

describe('Accept: application/msgpack', () => {
  it('is the JSON answer as MessagePack, for full, cut and empty answers', async () => {
    for (const body of kBodies) {
      const json = await raw(body);
      const packed = await raw(body, 'application/msgpack');
      expect(packed.status).toBe(200);
      expect(packed.type).toBe('application/msgpack');
      const a = JSON.parse(json.bytes.toString('utf8')) as Record<string, unknown>;
      const b = unpack(packed.bytes) as Record<string, unknown>;
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(comparable(b)).toEqual(comparable(a));
      expect(b.queryId).toBe(packed.requestId);
      expect(typeof b.tookMs).toBe('number');
    }
  });

  it('its next cursor continues the search like the JSON one', async () => {
    const body = kBodies[0]!;
    const first = unpack((await raw(body, 'application/msgpack')).bytes) as { next: string; hits: unknown[] };
    const second = unpack((await raw({ ...body, after: first.next }, 'application/msgpack')).bytes) as { hits: unknown[] };
    const unpaged = JSON.parse((await raw({ ...body, limit: 14 })).bytes.toString('utf8')) as { hits: unknown[] };
    expect([...first.hits, ...second.hits]).toEqual(unpaged.hits);
  });
});

describe('Accept: application/x-ndjson', () => {
  it('streams the head line, then one hit per line, equal to the JSON answer', async () => {
    for (const body of kBodies) {
      const json = JSON.parse((await raw(body)).bytes.toString('utf8')) as Record<string, any>;
      const streamed = await raw(body, 'application/x-ndjson');
      expect(streamed.status).toBe(200);
      expect(streamed.type).toMatch(/^application\/x-ndjson/);
      const [head, ...hits] = ndjsonLines(streamed.bytes);
      expect(Object.keys(head!)).toEqual(['total', 'truncated', 'queryId', 'next']);
      expect(head).toEqual({ total: json.total, truncated: json.truncated, queryId: streamed.requestId, next: json.next });
      expect(hits).toEqual(json.hits);
    }
  });

  it('walks pages by its head line\'s next', async () => {
    const body = { plate: 'FMT123', purpose: 'p', case: 'c', limit: 30 };
    const seen: unknown[] = [];
    let after: unknown;
    for (let n = 0; n < 10; n++) {
      const [head, ...hits] = ndjsonLines((await raw(after ? { ...body, after } : body, 'application/x-ndjson')).bytes);
      seen.push(...hits);
      expect(head!.total).toBe(100);
      if (!head!.truncated) break;
      after = head!.next;
    }
    const unpaged = JSON.parse((await raw({ ...body, limit: 10000 })).bytes.toString('utf8')) as { hits: unknown[] };
    expect(seen).toHaveLength(100);
    expect(seen).toEqual(unpaged.hits);
  });
});

describe('negotiation and errors', () => {
  it('highest q wins; */*, unknown types and q=0 fall back to JSON', async () => {
    const body = kBodies[0]!;
    const cases: Array<[string, RegExp]> = [
      ['application/msgpack;q=0.5, application/x-ndjson', /^application\/x-ndjson/],
      ['application/x-ndjson;q=0.2, application/msgpack;q=0.9', /^application\/msgpack/],
      ['application/json, application/msgpack', /^application\/json/],
      ['*/*', /^application\/json/],
      ['text/html, application/xhtml+xml', /^application\/json/],
      ['application/msgpack;q=0', /^application\/json/],
      ['application/vnd.msgpack', /^application\/msgpack/],
      ['application/ndjson', /^application\/x-ndjson/],
    ];
    for (const [accept, type] of cases) expect((await raw(body, accept)).type, accept).toMatch(type);
  });

  it('a bad request is a JSON error whatever Accept says', async () => {
    for (const accept of ['application/msgpack', 'application/x-ndjson']) {
      const res = await raw({ plate: 'FMT123', purpose: 'p', case: 'c', limit: 0 }, accept);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^application\/json/);
      expect(JSON.parse(res.bytes.toString('utf8')).error.code).toBe('PS_BAD_INPUT');
    }
  });

  it('each format is audited like a JSON search (resultCount = total)', async () => {
    const ids: string[] = [];
    for (const accept of ['application/msgpack', 'application/x-ndjson']) ids.push((await raw(kBodies[1]!, accept)).requestId);
    const records = await readAudit(ts.dataDir, 'pd-a');
    for (const id of ids) {
      const r = records.find((x) => x.requestId === id);
      expect(r).toMatchObject({ action: 'search', outcome: 'ok', status: 200, resultCount: 300 });
    }
  });
});
