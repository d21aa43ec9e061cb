/**
 * src/server/body.ts: a body taken as soon as its Content-Length bytes are in (not at the stream's 'end'),
 * through a real server on bare sockets, so that how the bytes arrive is the test's to choose: the body in the
 * head's packet, the next request right behind it in the same packet, the body in pieces with pauses, chunked,
 * cut short by the client, over the limit. Each answer is the one the whole body gives: a hot list whose
 * last entry is wrong is answered 400 naming that entry (a body read short would be a PS_BAD_JSON), and a
 * right one 200; the connection serves the next request after each.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let port: number;

beforeAll(async () => {
  s = await startTestServer();
  port = Number(new URL(s.url).port);
});
afterAll(async () => {
  await s.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/** A keep-alive connection that writes what it is told and reads answers by their content-length. */
class RawClient {
  private readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private readonly answers: RawAnswer[] = [];
  private waiting: (() => void) | undefined;
  closed = false;

  constructor() {
    this.socket = connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  async next(): Promise<RawAnswer> {
    while (this.answers.length === 0) {
      if (this.closed) throw new Error('connection closed before the answer');
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    return this.answers.shift()!;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      const length = Number(headers['content-length']);
      if (this.buf.length < end + 4 + length) return;
      const body = this.buf.subarray(end + 4, end + 4 + length).toString('utf8');
      this.buf = this.buf.subarray(end + 4 + length);
      this.answers.push({ status: Number(lines[0]!.split(' ')[1]), headers, json: JSON.parse(body) });
      const w = this.waiting;
      this.waiting = undefined;
      w?.();
    }
  }
}

const kPlates = Array.from({ length: 100 }, (_, i) => `AB${String(i).padStart(3, '0')}CD`);

function hotlistBody(lastEntry: string): string {
  return JSON.stringify({ plates: [...kPlates, lastEntry], match: 'exact', purpose: 'test', case: 'BODY-1' });
}

function head(body: string | number, path = '/v1/search/hotlist'): string {
  const length = typeof body === 'number' ? body : Buffer.byteLength(body);
  return `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token('pd-a', 'investigator')}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The answers the whole bodies give: 200 with no matches (an empty server), or the 400 naming entry 100. */
function expectWhole(a: RawAnswer, good: boolean): void {
  if (good) {
    expect(a.status).toBe(200);
    expect(a.json.matches).toEqual([]);
  } else {
    expect(a.status).toBe(400);
    expect(a.json.error).toMatchObject({ code: 'PS_BAD_INPUT', message: 'plates[100]: "?" and "*" need match "wildcard"' });
  }
}

describe('a body taken when its Content-Length bytes are in', () => {
  it('in the head\'s packet, with the next request right behind it in the same packet', async () => {
    const c = new RawClient();
    const bad = hotlistBody('ZZ*'), good = hotlistBody('ZZ999');
    c.write(head(bad) + bad + head(good) + good + head(bad) + bad);
    expectWhole(await c.next(), false);
    expectWhole(await c.next(), true);
    expectWhole(await c.next(), false);
    c.destroy();
  });

  it('in pieces with pauses between them, the cut inside the head, a string and a character', async () => {
    const c = new RawClient();
    for (const good of [true, false]) {
      const body = hotlistBody(good ? 'ZZ999' : 'ZZ*');
      const all = Buffer.from(head(body) + body);
      const cuts = [40, all.length - body.length + 3, all.length - 20, all.length - 1];
      let from = 0;
      for (const to of cuts) {
        c.write(all.subarray(from, to));
        from = to;
        await wait(15);
      }
      c.write(all.subarray(from));
      expectWhole(await c.next(), good);
    }
    c.destroy();
  });

  it('a multi-byte character split between pieces is read whole', async () => {
    const c = new RawClient();
    const body = JSON.stringify({ plates: ['AB123'], purpose: 'zweck – ünd €', case: 'BODY-2' });
    const all = Buffer.from(head(body) + body);
    const euro = all.indexOf(Buffer.from('€'));
    c.write(all.subarray(0, euro + 1));
    await wait(15);
    c.write(all.subarray(euro + 1));
    expectWhole(await c.next(), true);
    c.destroy();
    const rec = (await readAudit(s.dataDir, 'pd-a')).filter((r) => r.case === 'BODY-2');
    expect(rec.map((r) => r.purpose)).toEqual(['zweck – ünd €']);
  });

  it('chunked (no Content-Length): read to its end as before', async () => {
    const c = new RawClient();
    const body = hotlistBody('ZZ*');
    const h = head(body).replace(/content-length: \d+\r\n/, 'transfer-encoding: chunked\r\n');
    const mid = 500;
    c.write(`${h}${mid.toString(16)}\r\n${body.slice(0, mid)}\r\n`);
    await wait(15);
    c.write(`${(body.length - mid).toString(16)}\r\n${body.slice(mid)}\r\n0\r\n\r\n`);
    expectWhole(await c.next(), false);
    c.destroy();
  });

  it('a client that goes away before its whole body is recorded as 499; the server keeps serving', async () => {
    const c = new RawClient();
    const body = hotlistBody('ZZ999');
    c.write(head(body) + body.slice(0, 300));
    await wait(30);
    c.destroy();
    await wait(100);
    const rec = (await readAudit(s.dataDir, 'pd-a')).filter((r) => r.path === '/v1/search/hotlist').at(-1)!;
    expect(rec.status).toBe(499);
    const d = new RawClient();
    d.write(head(body) + body);
    expectWhole(await d.next(), true);
    d.destroy();
  });

  it('over the limit: 413 once the body is drained, and the connection serves on; a declared length of 0 is an empty body', async () => {
    const c = new RawClient();
    const big = (1 << 20) + 1; // a search's limit is 1 MiB
    c.write(head(big, '/v1/search'));
    for (let i = 0; i < 4; i++) {
      c.write('x'.repeat(big / 4));
      await wait(5);
    }
    c.write('x'.repeat(big % 4));
    const a = await c.next();
    expect(a.status).toBe(413);
    expect(a.json.error.code).toBe('PS_BODY_TOO_LARGE');
    expect(a.headers.connection).not.toBe('close');
    const good = hotlistBody('ZZ999');
    c.write(head(good) + good);
    expectWhole(await c.next(), true);
    c.destroy();
    const d = new RawClient();
    d.write(head(0));
    const e = await d.next();
    expect(e.status).toBe(400);
    expect(e.json.error).toMatchObject({ code: 'PS_BAD_INPUT', message: 'body must be a JSON object' });
    d.destroy();
  });
});
