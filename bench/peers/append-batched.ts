/**
 * Appends generated reads to an engine per tenant in batches of `batch` (bench:peers' own load goes through
 * engine-peer.ts, which also times and spills; the side benches that only need the data loaded use this).
 */
import type { Engine } from '../../src/engine/index.js';
import type { Read } from '../../src/model/read.js';

export async function appendBatched(engine: Pick<Engine, 'append'>, reads: Iterable<{ tenant: string; read: Read }>, batch = 100_000): Promise<void> {
  const pending = new Map<string, Read[]>();
  for (const g of reads) {
    let list = pending.get(g.tenant);
    if (!list) pending.set(g.tenant, (list = []));
    list.push(g.read);
    if (list.length >= batch) {
      pending.set(g.tenant, []);
      await engine.append(g.tenant, list);
    }
  }
  for (const [tenant, list] of pending) if (list.length > 0) await engine.append(tenant, list);
}
