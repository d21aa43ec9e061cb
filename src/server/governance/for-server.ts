/**
 * The governance state of a running server (policies, approvals), opened once by the first route module's
 * `setup` that asks for it and shared by the policy, approval, preview, insights and transparency routes
 * and by the broad-search guard. Keyed by the server's services, so several servers in one process stay apart.
 */
import type { ServerServices } from '../route.js';
import { ApprovalStore } from './approvals.js';
import { PolicyStore } from './policy.js';

export interface Governance {
  policies: PolicyStore;
  approvals: ApprovalStore;
}

const opened = new WeakMap<ServerServices, Promise<Governance>>();

export function governanceFor(services: ServerServices): Promise<Governance> {
  let g = opened.get(services);
  if (!g) {
    g = (async () => ({
      policies: await PolicyStore.open(services.dataDir),
      approvals: await ApprovalStore.open(services.dataDir, services.keys),
    }))();
    opened.set(services, g);
  }
  return g;
}
