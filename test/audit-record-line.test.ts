/**
 * The audit writer's one-pass line (chainedLine in src/server/audit/record.ts) must be exactly what the
 * definition gives: hash = chainHash(record), line = canonicalJson({...record, hash}) + "\n", on random
 * records whose keys sort before, after and around "hash" (and on records as the trail stores them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, chainedLine } from '../src/server/audit/record.js';

// keys next to "hash" in sort order, the empty key, case and non-ASCII, and an existing "hash" (ignored)
const key = fc.oneof(
  fc.constantFrom('', 'a', 'actorTenant', 'durationMs', 'h', 'has', 'hash', 'hash0', 'hasi', 'hb', 'Hash', 'i', 'ip', 'prev', 'seq', 'z', 'é', '\u{1F600}'),
  fc.string({ maxLength: 6 }),
);
// "prev" is the previous record's hash, a string, wherever a record comes from (the writer sets it); as a JSON
// object it can carry a "toString" key, and String() of it throws in the definition as in chainedLine
const record = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 })
  .map((r) => (r.prev !== null && typeof r.prev === 'object' ? { ...r, prev: JSON.stringify(r.prev) } : r));

function byDefinition(r: Record<string, unknown>): { hash: string; line: string } {
  const hash = chainHash(r);
  return { hash, line: `${canonicalJson({ ...r, hash })}\n` };
}

describe('chainedLine', () => {
  it('equals chainHash and the canonical line with the hash, on random records', () => {
    fc.assert(fc.property(record, fc.string({ maxLength: 70 }), (r, prev) => {
      const rec = { ...r, prev };
      expect(chainedLine(rec)).toEqual(byDefinition(rec));
      expect(chainedLine(r)).toEqual(byDefinition(r));
    }), { numRuns: 3_000 });
  });

  it('leaves out keys JSON leaves out (undefined values), wherever they sort', () => {
    for (const r of [
      { a: undefined, prev: 'p', z: 1 },
      { a: 1, prev: 'p', z: undefined },
      { prev: undefined },
      {},
      { hash: 'old', prev: 'p' },
      { actorTenant: 'pd-a', durationMs: 1.5 },
    ] as Array<Record<string, unknown>>) {
      expect(chainedLine(r)).toEqual(byDefinition(r));
    }
  });

  it('equals the definition on a record as the trail stores it', () => {
    const stored = {
      ts: '2026-12-02T12:00:00.000Z', requestId: '5f0c1d3e-aaaa-bbbb-cccc-0123456789ab', tenant: 'pd-metro',
      actorTenant: 'pd-metro', user: 'alice', action: 'search', outcome: 'ok', status: 200, resultCount: 12,
      tenantsTouched: ['pd-east', 'pd-metro'], ip: '127.0.0.1', durationMs: 0.512, seq: 7, prev: '0'.repeat(64),
      sealed: 'c2VhbGVk', sealedBy: '0123456789abcdef:3',
    };
    expect(chainedLine(stored)).toEqual(byDefinition(stored));
    const { hash, line } = chainedLine(stored);
    expect(line).toContain(`"durationMs":0.512,"hash":"${hash}","ip":"127.0.0.1",`);
  });
});
