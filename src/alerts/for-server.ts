/**
 * The AlertSystem of a running server: opened by the first route module's `setup`, shared by
 * src/server/routes/hotlists.ts and src/server/routes/alerts.ts, wired into the ingest hook and the
 * server's shutdown. Keyed by the server's services, so several servers in one process stay apart.
 */
import type { ServerServices } from '../server/route.js';
import { AlertSystem } from './system.js';

const systems = new WeakMap<ServerServices, Promise<AlertSystem>>();

export function alertSystemFor(services: ServerServices): Promise<AlertSystem> {
  let system = systems.get(services);
  if (!system) {
    system = AlertSystem.open({
      dataDir: services.dataDir,
      keys: services.keys,
      engine: services.engine,
      scopesFor: (tenant, now) => services.directory.scopesFor(tenant, now),
      retentionCutoff: (tenant, now) => services.directory.retentionCutoff(tenant, now),
      log: services.log,
    }).then((s) => {
      // HTTP ingest only: `platesearch ingest` (bulk load) never passes here, so it raises no alerts
      services.onIngest(async (event) => {
        // no hot list anywhere: nothing to match, and the event's reads are not made (HTTP ingest makes
        // them on first use, an object per read)
        if (s.hotlists.tenants().length === 0) return;
        await s.onIngest(event.tenant, event.reads);
        if (event.retried.length > 0) await s.onRetried(event.tenant, event.retried);
      });
      services.onClose(() => s.close());
      return s;
    });
    systems.set(services, system);
  }
  return system;
}
