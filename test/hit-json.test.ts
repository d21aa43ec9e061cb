/**
 * src/server/hit-json.ts: the JSON text written straight from hits (a search's JSON answer) is, byte for
 * byte, JSON.stringify of the hit objects (`hitToJson`) that the other answer formats build: random hits
 * with every optional field present or absent, and strings JSON must escape (quotes, backslashes,
 * controls, non-ASCII, lone surrogates, long values), remembered or not.
 */
import { describe, expect, it } from 'vitest';
import type { Hit } from '../src/model/query.js';
import { hitJsonText, hitsJsonText, hitToJson } from '../src/server/hit-json.js';

// a small deterministic PRNG (mulberry32), so a failure is reproducible from its seed
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kOdd = ['', 'a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f', 'café', 'Zürich Nord', '東京', '😀', '\ud800', 'x\udc00y', '\u2028\u2029', '</script>', 'a'.repeat(70), `${'B'.repeat(64)}"`, 'plain-cam_01'];

function str(r: () => number, plain: boolean): string {
  if (!plain && r() < 0.4) return kOdd[Math.floor(r() * kOdd.length)]!;
  const n = 1 + Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789-_ '[Math.floor(r() * 36)];
  return s;
}

function num(r: () => number): number {
  const k = r();
  if (k < 0.05) return -0;
  if (k < 0.1) return 0;
  if (k < 0.15) return 1e21 * r();
  if (k < 0.2) return 1e-7 * r();
  return (r() - 0.5) * 360;
}

function randomHit(r: () => number, plain: boolean): Hit {
  const hit: Hit = {
    id: plain ? `0001${Math.floor(r() * 2 ** 40).toString(16).padStart(12, '0')}` : str(r, false),
    tenant: str(r, plain),
    plate: str(r, plain),
    ts: Math.floor((r() - 0.3) * 4e12),
    lat: num(r),
    lon: num(r),
    camera: str(r, plain),
    distance: Math.floor(r() * 3),
  } as Hit;
  if (r() < 0.6) hit.region = str(r, plain);
  if (r() < 0.6) hit.confidence = r() < 0.5 ? Math.round(r() * 100) / 100 : r();
  if (r() < 0.5) hit.make = str(r, plain);
  if (r() < 0.5) hit.color = str(r, plain);
  return hit;
}

describe('hitsJsonText', () => {
  it('is JSON.stringify(hits.map(hitToJson)) for random hits, plain and odd', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed);
      const hits = Array.from({ length: Math.floor(r() * 40) }, () => randomHit(r, seed % 2 === 0));
      expect(hitsJsonText(hits), `seed ${seed}`).toBe(JSON.stringify(hits.map(hitToJson)));
      for (const h of hits) expect(hitJsonText(h)).toBe(JSON.stringify(hitToJson(h)));
    }
  });

  it('writes a value the same whether it was remembered or not, past the bound too', () => {
    const r = prng(7);
    // more distinct cameras than the remembered bound: the later ones are escaped each time
    const hits = Array.from({ length: 5000 }, (_, i) => ({ ...randomHit(r, true), camera: `cam "${i}"` }));
    expect(hitsJsonText(hits)).toBe(JSON.stringify(hits.map(hitToJson)));
    expect(hitsJsonText(hits)).toBe(JSON.stringify(hits.map(hitToJson)));
  });

  it('writes non-finite numbers as null, as JSON.stringify does', () => {
    const h = { ...randomHit(prng(3), true), lat: Number.NaN, lon: Infinity, confidence: -Infinity } as Hit;
    expect(hitJsonText(h)).toBe(JSON.stringify(hitToJson(h)));
    expect(hitsJsonText([])).toBe('[]');
  });
});
