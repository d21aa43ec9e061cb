/**
 * The console's alert client (ui/src/sse.ts: fetch streaming with the Authorization header, since EventSource
 * cannot send one) against the real alert stream: events parse as the server sends them, and after a cut the
 * client resumes with Last-Event-ID and receives exactly the alerts it missed, none twice. The parser is also
 * held to the event-stream format on hand-made chunkings (CRLF, split lines, comments, multi-line data).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followEvents, readEvents, type SseEvent } from '../ui/src/sse.js';
import { call, startTestServer, type TestServer } from './helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
  const put = await call(ts.url, 'PUT', '/v1/hotlists/watch', {
    token: ts.token('pd-a', 'dispatcher'),
    json: { entries: [{ plate: 'SSE001', note: 'first' }, { plate: 'SSE002', note: 'second' }, { plate: 'SSE003', note: 'third' }] },
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await ts?.close();
});

async function ingest(plate: string): Promise<void> {
  const res = await call(ts.url, 'POST', '/v1/reads', {
    token: ts.token('pd-a', 'ingest'),
    json: [{ plate, ts: new Date().toISOString(), lat: 37.77, lon: -122.42, camera: 'cam-sse' }],
  });
  expect(res.json.accepted).toBe(1);
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

describe('console SSE client', () => {
  it('parses the event-stream format however the bytes are cut', async () => {
    const text = ': heartbeat\r\nid: 7\r\nevent: alert\r\ndata: {"a":1}\r\n\r\ndata: line1\ndata: line2\n\nid: 9\nevent: alert\ndata:{"b":2}\n\n';
    const want: SseEvent[] = [
      { id: '7', event: 'alert', data: '{"a":1}' },
      { id: '7', event: 'message', data: 'line1\nline2' },
      { id: '9', event: 'alert', data: '{"b":2}' },
    ];
    for (const size of [1, 2, 3, 5, 8, 13, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const got: SseEvent[] = [];
      await readEvents(streamOf(chunks), (e) => got.push(e));
      expect(got, `chunks of ${size}`).toEqual(want);
    }
  });

  it('receives live alerts with the bearer token and resumes after a cut with Last-Event-ID', async () => {
    const token = ts.token('pd-a', 'dispatcher');
    const seen: Array<{ id: string; plate: string }> = [];
    let last: string | undefined;
    const states: string[] = [];
    const run = (stop: AbortController) => followEvents({
      url: `${ts.url}/v1/alerts`,
      headers: () => ({ authorization: `Bearer ${token}` }),
      lastEventId: () => last,
      signal: stop.signal,
      onState: (s) => states.push(s),
      onEvent: (e) => {
        last = e.id;
        seen.push({ id: e.id!, plate: (JSON.parse(e.data) as { read: { plate: string } }).read.plate });
      },
    });

    const first = new AbortController();
    const running = run(first);
    await until(() => states.includes('open'));
    await ingest('SSE001');
    await until(() => seen.length === 1);
    first.abort();
    await running;

    // missed while disconnected
    await ingest('SSE002');
    await ingest('SSE003');
    const second = new AbortController();
    const resumed = run(second);
    await until(() => seen.length === 3);
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives (no duplicate)
    second.abort();
    await resumed;
    expect(seen.map((s) => s.plate)).toEqual(['SSE001', 'SSE002', 'SSE003']);
    expect(new Set(seen.map((s) => s.id)).size).toBe(3);
  });

  it('stops retrying on 403 (a role without alerts)', async () => {
    const states: string[] = [];
    await followEvents({
      url: `${ts.url}/v1/alerts`,
      headers: () => ({ authorization: `Bearer ${ts.token('pd-a', 'investigator')}` }),
      lastEventId: () => undefined,
      signal: new AbortController().signal,
      onState: (s, detail) => states.push(detail ? `${s} ${detail}` : s),
      onEvent: () => {},
    });
    expect(states).toEqual(['connecting', 'closed HTTP 403']);
  });
});
