/**
 * The reads an analysis may see: in the caller's scope (own tenant plus active grants, `TenantScope`) and
 * not past that tenant's retention cutoff. The same rule as the reference search, written once for the
 * four analyses.
 */
import type { TenantScope } from '../../model/query.js';
import type { StoredRead } from '../../model/read.js';

export function visibleReads(reads: Iterable<StoredRead>, scopes: readonly TenantScope[]): StoredRead[] {
  const out: StoredRead[] = [];
  for (const read of reads) {
    const scope = scopes.find((s) => s.tenant === read.tenant);
    if (scope !== undefined && read.ts >= scope.minTs) out.push(read);
  }
  return out;
}

/** Cuts sorted results at `limit`, with the exact `total`. */
export function cut<R>(all: R[], limit: number): { results: R[]; total: number; truncated: boolean } {
  return { results: all.slice(0, limit), total: all.length, truncated: all.length > limit };
}
