/**
 * bench/http/raw-client.ts, the search phases' bare-socket client, against undici (the client it replaces
 * by default) on a real node:http server: random JSON answers of random sizes, written in random pieces
 * (so a head or a body arrives split), with `connection: close` now and then; both clients must see the
 * same status and the same `tookMs`, and the server the same request bodies.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { post, numberField } from '../bench/http/closed-loop.js';
import { rawSearchClients, tookMsOf } from '../bench/http/raw-client.js';
import { prng } from './helpers/crash-loop.js';

let server: Server;
let url = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push(`${req.headers.authorization} ${req.headers['content-type']} ${body}`);
      const q = JSON.parse(body) as { size: number; status: number; pieces: number; close: boolean; tookMs: number };
      const hits = Array.from({ length: q.size }, (_, i) => ({ id: `r${i}`, plate: 'ÄB€12'.repeat(i % 3 + 1) }));
      const text = JSON.stringify({ hits, total: q.size, tookMs: q.tookMs });
      const bytes = Buffer.from(text, 'utf8');
      res.writeHead(q.status, { 'content-type': 'application/json', 'content-length': bytes.length, ...(q.close ? { connection: 'close' } : {}) });
      res.flushHeaders();
      // the body in `pieces` writes, a tick apart: the client meets partial heads and bodies
      let at = 0;
      const step = Math.max(1, Math.ceil(bytes.length / q.pieces));
      const next = (): void => {
        if (at >= bytes.length) return void res.end();
        res.write(bytes.subarray(at, at + step));
        at += step;
        setImmediate(next);
      };
      next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('bench raw client', () => {
  it('sees what undici sees, over random answers, pieces and closes', async () => {
    const rnd = prng(12);
    const clients = 3;
    const raw = rawSearchClients(url, clients, 'tok-1');
    const pool = new Pool(url, { connections: clients });
    try {
      for (let round = 0; round < 40; round++) {
        const asks = Array.from({ length: clients }, () => ({
          size: Math.floor(rnd() * (rnd() < 0.2 ? 400 : 20)),
          status: rnd() < 0.1 ? 429 : 200,
          pieces: 1 + Math.floor(rnd() * 5),
          close: rnd() < 0.1,
          tookMs: Math.round(rnd() * 1e6) / 1000,
        }));
        seen.length = 0;
        const got = await Promise.all(asks.map((a, c) => raw.post(c, '/v1/search', JSON.stringify(a))));
        const rawSeen = [...seen].sort();
        seen.length = 0;
        const want = await Promise.all(asks.map(async (a) => {
          const r = await post(pool, '/v1/search', 'tok-1', 'application/json', JSON.stringify(a));
          return { status: r.status, tookMs: numberField(r.text, 'tookMs') };
        }));
        expect(got).toEqual(want);
        expect(got.map((g) => g.tookMs)).toEqual(asks.map((a) => a.tookMs));
        expect(rawSeen).toEqual([...seen].sort());
      }
    } finally {
      raw.close();
      await pool.close();
    }
  });

  it('reads tookMs from the end of an answer only', () => {
    expect(tookMsOf(Buffer.from('{"hits":[],"tookMs":0.123}'))).toBe(0.123);
    expect(tookMsOf(Buffer.from('{"tookMs":12,"hits":[]}'))).toBe(12);
    expect(tookMsOf(Buffer.from(`{"tookMs":1,"x":"${'a'.repeat(5000)}"}`))).toBeUndefined();
    expect(tookMsOf(Buffer.from('{"hits":[]}'))).toBeUndefined();
  });
});
