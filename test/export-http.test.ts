import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, readAudit, startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

/** An RFC 4180 parser, independent of the product's writer. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

const reads = [
  { plate: '7abc-123', ts: '2026-11-01T12:00:00.123Z', lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', confidence: 0.93, make: 'TOYOTA', color: 'WHITE' },
  { plate: 'XYZ9', ts: '2026-11-01T13:00:00+02:00', lat: -33.1234567, lon: 151.2, camera: 'gate "north", lane 2', make: 'Ford "F-150", XL' },
  { plate: 'Q1', ts: 1793534400000, lat: 0, lon: 0, camera: 'Straße-Kamera ☃', confidence: 0 },
];
const expected = [
  { tenant: 'pd-a', plate: 'XYZ9', ts: '2026-11-01T11:00:00.000Z', lat: -33.1234567, lon: 151.2, camera: 'gate "north", lane 2', make: 'Ford "F-150", XL' },
  { tenant: 'pd-a', plate: '7ABC123', ts: '2026-11-01T12:00:00.123Z', lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', confidence: 0.93, make: 'TOYOTA', color: 'WHITE' },
  { tenant: 'pd-a', plate: 'Q1', ts: new Date(1793534400000).toISOString(), lat: 0, lon: 0, camera: 'Straße-Kamera ☃', confidence: 0 },
].sort((a, b) => (a.ts < b.ts ? -1 : 1));
const kFields = ['id', 'tenant', 'plate', 'ts', 'lat', 'lon', 'camera', 'region', 'confidence', 'make', 'color'];

async function seed(): Promise<Map<string, string>> {
  const r = await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-a', 'ingest'), json: reads });
  expect(r.json).toEqual({ accepted: 3, rejected: [] });
  await call(s.url, 'POST', '/v1/reads', { token: s.token('pd-b', 'ingest'), json: [reads[0]] });
  await call(s.url, 'PUT', '/v1/sharing/pd-a', { token: s.token('pd-b', 'admin'), json: {} }); // granted reads are not exported
  const hits = (await call(s.url, 'POST', '/v1/search', { token: s.token('pd-a', 'investigator'), json: { purpose: 'p', case: 'c' } })).json.hits;
  return new Map(hits.filter((h: { tenant: string }) => h.tenant === 'pd-a').map((h: { plate: string; id: string }) => [h.plate, h.id]));
}

describe('export over HTTP', () => {
  it('NDJSON parses back to the ingested reads, own tenant only, ordered by ts; audited with the row count', async () => {
    const ids = await seed();
    const r = await call(s.url, 'GET', '/v1/export?format=ndjson', { token: s.token('pd-a', 'admin') });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const rows = r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rows).toEqual(expected.map((e) => ({ id: ids.get(e.plate), ...e })));
    for (const row of rows) expect(Object.keys(row)).toEqual(kFields.filter((f) => f in row));
    const rec = (await readAudit(s.dataDir, 'pd-a')).filter((x) => x.action === 'export');
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ resultCount: 3, status: 200, outcome: 'ok' });
  });

  it('CSV has a header and quotes properly; parsed back equals the reads', async () => {
    const ids = await seed();
    const r = await call(s.url, 'GET', '/v1/export?format=csv', { token: s.token('pd-a', 'admin') });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(r.text);
    expect(header).toEqual(kFields);
    const back = rows.map((cols) => {
      const o: Record<string, unknown> = {};
      kFields.forEach((f, i) => {
        if (cols[i] === '') return;
        o[f] = ['lat', 'lon', 'confidence'].includes(f) ? Number(cols[i]) : cols[i];
      });
      return o;
    });
    expect(back).toEqual(expected.map((e) => ({ id: ids.get(e.plate), ...e })));
  });

  it('filters by from/to, validates params, admin only', async () => {
    await seed();
    const admin = s.token('pd-a', 'admin');
    const r = await call(s.url, 'GET', '/v1/export?format=ndjson&from=2026-11-01T12:00:00.001Z&to=2026-11-01T12:00:00.124Z', { token: admin });
    expect(r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l).plate)).toEqual(['7ABC123']);
    for (const q of ['format=xml', 'from=yesterday', 'from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'format=csv&format=ndjson']) {
      const bad = await call(s.url, 'GET', `/v1/export?${q}`, { token: admin });
      expect([q, bad.status]).toEqual([q, 400]);
    }
    expect((await call(s.url, 'GET', '/v1/export?format=csv', { token: s.token('pd-a', 'investigator') })).status).toBe(403);
    const empty = await call(s.url, 'GET', '/v1/export?format=csv', { token: s.token('pd-c', 'admin') });
    expect(empty.text).toBe(kFields.join(',') + '\n');
  });
});

describe('export formats', () => {
  it('quotes CSV fields with separators, quotes and line breaks', async () => {
    const { csvField } = await import('../src/server/export/format.js');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField(-122.4194)).toBe('-122.4194');
    expect(csvField(undefined)).toBe('');
    expect(parseCsv(['x', csvField('a\n"b",c')].join(',') + '\n')).toEqual([['x', 'a\n"b",c']]);
  });
});
