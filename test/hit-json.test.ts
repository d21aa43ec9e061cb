/**
 * Search answers are written as JSON text by hand (src/server/hit-json.ts); they must be byte for byte
 * what JSON.stringify makes of the hit objects, whatever the fields hold (quotes, backslashes, control
 * characters and non-ASCII in text fields; optional fields absent; negative and odd numbers).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hitToJson, hitsJsonText } from '../src/server/hit-json.js';
import type { Hit } from '../src/model/query.js';
import { storedReadsArb } from './helpers/arbitraries.js';

const awkwardText = fc.string({ unit: 'binary', maxLength: 12 });

describe('hitsJsonText', () => {
  it('equals JSON.stringify of the hit objects on random stored reads', () => {
    fc.assert(fc.property(storedReadsArb(30), fc.double({ min: 0, max: 2e7, noNaN: true }), (reads, distance) => {
      const hits: Hit[] = reads.map((r, i) => ({ ...r, distance: i % 2 === 0 ? 0 : distance }));
      expect(hitsJsonText(hits)).toBe(JSON.stringify(hits.map(hitToJson)));
    }), { numRuns: 300 });
  });

  it('escapes text fields as JSON.stringify does, and keeps optional fields optional', () => {
    fc.assert(fc.property(awkwardText, awkwardText, fc.option(awkwardText, { nil: undefined }), fc.option(fc.double(), { nil: undefined }), (camera, make, region, confidence) => {
      const hit: Hit = {
        id: 'r1', tenant: 'pd-a', plate: 'ABC"\\1', ts: -1, lat: -0, lon: 180, camera, distance: 12.5,
        ...(region !== undefined ? { region } : {}), ...(confidence !== undefined ? { confidence } : {}), make,
      };
      expect(hitsJsonText([hit])).toBe(JSON.stringify([hitToJson(hit)]));
    }), { numRuns: 500 });
    expect(hitsJsonText([])).toBe('[]');
  });
});
