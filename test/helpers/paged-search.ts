/**
 * A search walked page by page through its cursors, each page equal to the reference's (and serialised
 * as it is: same keys in the same order), the pages together equal to the unpaged reference answer.
 */
import { expect } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import type { Hit, SearchKey, SearchQuery, TenantScope } from '../../src/model/query.js';
import type { StoredRead } from '../../src/model/read.js';
import { referenceSearch } from '../../src/query/reference/index.js';

export async function expectPagesLikeReference(
  engine: Pick<Engine, 'search'>, reads: readonly StoredRead[], scopes: TenantScope[], q: Omit<SearchQuery, 'limit' | 'after'>,
  limit: number, maxPages: number,
): Promise<void> {
  const full = referenceSearch(reads, scopes, { ...q, limit: 10_000 });
  const pages: Hit[] = [];
  let after: SearchKey | undefined;
  for (let n = 0; ; n++) {
    const query: SearchQuery = after ? { ...q, limit, after } : { ...q, limit };
    const got = await engine.search(scopes, query);
    const want = referenceSearch(reads, scopes, query);
    expect(got).toEqual(want);
    expect(JSON.stringify(got.hits)).toBe(JSON.stringify(want.hits));
    pages.push(...got.hits);
    if (!got.truncated) break;
    const last = got.hits[got.hits.length - 1]!;
    after = { distance: last.distance, ts: last.ts, id: last.id };
    expect(n).toBeLessThan(maxPages);
  }
  expect(pages).toEqual(full.hits);
}
