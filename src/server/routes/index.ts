/**
 * The single list of route modules. To add routes: write `src/server/routes/<name>.ts` exporting
 * `routes: Route[]` (and optionally `setup(services)`), import it here, and add it to the list.
 */
import type { RouteModule } from '../route.js';
import * as alerts from './alerts.js';
import * as alertAcks from './alert-acks.js';
import * as approvals from './approvals.js';
import * as analytics from './analytics.js';
import * as audit from './audit.js';
import * as consoleRoutes from './console.js';
import * as exportRoutes from './export.js';
import * as holds from './holds.js';
import * as hotlists from './hotlists.js';
import * as insights from './insights.js';
import * as me from './me.js';
import * as ops from './ops.js';
import * as policy from './policy.js';
import * as preview from './preview.js';
import * as reads from './reads.js';
import * as retention from './retention.js';
import * as search from './search.js';
import * as sharing from './sharing.js';
import * as transparency from './transparency.js';

export const routeModules: readonly RouteModule[] = [
  ops,
  consoleRoutes,
  me,
  reads,
  search,
  analytics,
  audit,
  sharing,
  retention,
  exportRoutes,
  hotlists,
  alerts,
  policy,
  preview,
  approvals,
  insights,
  transparency,
  alertAcks,
  holds,
];
