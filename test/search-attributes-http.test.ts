/**
 * v1.1 `makes` / `colors` over HTTP: case-insensitive on both sides, ANDed with the other filters, reads
 * without the label never match, an empty or malformed list is a 400 naming the field (like `cameras`),
 * and the same filters apply to `/v1/search/hotlist`. Live rows and sealed shards (the kernels' masks)
 * answer alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sampleRead, startTestServer, type ReadInput, type TestServer } from './helpers/server.js';

let ts: TestServer;
const kMakes = ['TOYOTA', 'Toyota', 'toyota', 'Ford', 'Škoda', undefined] as const;
const kColors = ['WHITE', 'white', 'Grey', undefined] as const;
const reads: ReadInput[] = Array.from({ length: 240 }, (_, i) => {
  const r = sampleRead(i, { plate: i % 2 ? 'ATTR1' : 'ATTR2' });
  const make = kMakes[i % kMakes.length];
  const color = kColors[i % kColors.length];
  if (make !== undefined) r.make = make;
  if (color !== undefined) r.color = color;
  return r;
});

function expected(makes?: string[], colors?: string[], plate?: string): number {
  return reads.filter((r) =>
    (!plate || r.plate === plate) &&
    (!makes || (r.make !== undefined && makes.some((m) => m.toLowerCase() === r.make!.toLowerCase()))) &&
    (!colors || (r.color !== undefined && colors.some((c) => c.toLowerCase() === r.color!.toLowerCase())))).length;
}

const search = (body: Record<string, unknown>) =>
  call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: { purpose: 'p', case: 'c', limit: 10000, ...body } });

const kCases: Array<[string[] | undefined, string[] | undefined, string | undefined]> = [
  [['toyota'], undefined, undefined], [['TOYOTA', 'ford'], undefined, undefined], [['škoda'], undefined, undefined],
  [['Skoda'], undefined, undefined], [undefined, ['White'], undefined], [undefined, ['grey', 'WHITE'], 'ATTR1'],
  [['Toyota'], ['white'], 'ATTR2'], [['tesla'], undefined, undefined], [['FORD'], ['GREY'], undefined],
];

async function checkAll(): Promise<void> {
  for (const [makes, colors, plate] of kCases) {
    const body: Record<string, unknown> = {};
    if (makes) body.makes = makes;
    if (colors) body.colors = colors;
    if (plate) body.plate = plate;
    const res = await search(body);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.json.total, JSON.stringify(body)).toBe(expected(makes, colors, plate));
    for (const h of res.json.hits as Array<{ make?: string; color?: string }>) {
      if (makes) expect(makes.map((m) => m.toLowerCase())).toContain(h.make!.toLowerCase());
      if (colors) expect(colors.map((c) => c.toLowerCase())).toContain(h.color!.toLowerCase());
    }
  }
}

beforeAll(async () => {
  ts = await startTestServer();
  const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: reads });
  expect(res.json).toEqual({ accepted: 240, rejected: [] });
});
afterAll(async () => {
  await ts?.close();
});

describe('makes / colors', () => {
  it('match case-insensitively on live rows', async () => {
    expect(expected(['toyota'])).toBe(120);
    expect(expected(['tesla'])).toBe(0);
    await checkAll();
  });

  it('match alike once sealed into shards (the kernels\' dictionary masks)', async () => {
    await ts.server.services.engine.seal();
    expect(ts.server.services.engine.stats().liveReads).toBe(0);
    await checkAll();
  });

  it('apply to hot-list searches', async () => {
    const res = await call(ts.url, 'POST', '/v1/search/hotlist', {
      token: ts.token('pd-a', 'investigator'), json: { plates: ['attr1', 'ATTR2', 'NONE1'], makes: ['TOYOTA'], colors: ['white'], purpose: 'p', case: 'c' },
    });
    expect(res.status).toBe(200);
    expect(res.json.matches.map((m: { entry: string; total: number }) => [m.entry, m.total])).toEqual(
      [['ATTR1', expected(['toyota'], ['white'], 'ATTR1')], ['ATTR2', expected(['toyota'], ['white'], 'ATTR2')]].filter(([, n]) => (n as number) > 0),
    );
  });

  it('an empty or malformed list is a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ makes: [] }, 'makes'], [{ colors: [] }, 'colors'], [{ makes: 'Toyota' }, 'makes'], [{ colors: ['white', 3] }, 'colors'],
    ] as Array<[Record<string, unknown>, string]>) {
      const res = await search(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_INPUT');
      expect(res.json.error.field).toBe(field);
    }
    const hot = await call(ts.url, 'POST', '/v1/search/hotlist', {
      token: ts.token('pd-a', 'investigator'), json: { plates: ['ATTR1'], makes: [], purpose: 'p', case: 'c' },
    });
    expect(hot.status).toBe(400);
    expect(hot.json.error.field).toBe('makes');
  });
});
