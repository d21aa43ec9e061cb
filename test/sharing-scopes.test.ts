import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../src/server/tenancy/directory.js';

const kTenants = ['pd-a', 'pd-b', 'pd-c'] as const;
type T = (typeof kTenants)[number];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-share-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Op =
  | { kind: 'grant'; from: T; to: T; ttl: number | null }
  | { kind: 'revoke'; from: T; to: T }
  | { kind: 'tick'; ms: number }
  | { kind: 'check'; who: T };

const tenant = fc.constantFrom(...kTenants);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('grant' as const), from: tenant, to: tenant, ttl: fc.option(fc.integer({ min: -5, max: 50 }), { nil: null }) }),
  fc.record({ kind: fc.constant('revoke' as const), from: tenant, to: tenant }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('check' as const), who: tenant }),
);

describe('sharing: scopesFor', () => {
  it('never includes a tenant that is neither own nor granted-and-unexpired (random sequences)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const d = await Directory.open(join(dir, String(run++)), { watch: false });
        for (const t of kTenants) await d.createToken(t, 'admin', ['admin']);
        const model = new Map<string, number | null>(); // "from>to" → expires
        let now = 1_000_000;
        for (const o of ops) {
          if (o.kind === 'tick') now += o.ms;
          else if (o.kind === 'grant') {
            const expires = o.ttl === null ? null : now + o.ttl;
            const p = d.grant(o.from, o.to, expires, now);
            if (o.from === o.to || (expires !== null && expires <= now)) {
              await expect(p).rejects.toMatchObject({ status: 400 });
            } else {
              await p;
              model.set(`${o.from}>${o.to}`, expires);
            }
          } else if (o.kind === 'revoke') {
            const existed = await d.revokeGrant(o.from, o.to);
            expect(existed).toBe(model.has(`${o.from}>${o.to}`));
            model.delete(`${o.from}>${o.to}`);
          } else {
            const seen = d.scopesFor(o.who, now).map((s) => s.tenant);
            const expected = [o.who, ...kTenants.filter((g) => {
              if (g === o.who) return false;
              const e = model.get(`${g}>${o.who}`);
              return e !== undefined && (e === null || now < e);
            })];
            expect(seen).toEqual(expected);
            const listed = d.listGrants(o.who, now);
            expect(listed.received.map((g) => g.grantor)).toEqual(expected.slice(1));
          }
        }
        await d.close();
      }),
      { numRuns: 100 },
    );
  });

  it('grant to an unknown tenant → 404; the expiry boundary is exclusive; scopes carry each grantor\'s cutoff', async () => {
    const d = await Directory.open(join(dir, 'fixed'), { watch: false });
    for (const t of kTenants) await d.createToken(t, 'admin', ['admin']);
    await expect(d.grant('pd-a', 'pd-zz', null, 0)).rejects.toMatchObject({ status: 404, code: 'PS_NOT_FOUND' });
    await d.grant('pd-a', 'pd-b', 2000, 1000);
    await d.setRetention('pd-a', 3600);
    expect(d.scopesFor('pd-b', 1999)).toEqual([{ tenant: 'pd-b', minTs: -Infinity }, { tenant: 'pd-a', minTs: 1999 - 3_600_000 }]);
    expect(d.scopesFor('pd-b', 2000)).toEqual([{ tenant: 'pd-b', minTs: -Infinity }]);
    expect(d.scopesFor('pd-a', 1500)).toEqual([{ tenant: 'pd-a', minTs: 1500 - 3_600_000 }]);
    expect(d.scopesFor('pd-zz', 1500)).toEqual([]);
    await d.close();
  });
});
