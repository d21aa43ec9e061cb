/** The rows of bench/peers/analytics-sql.ts (as arrays, in its column order) → the harness's analytics answer. */
import type { AnalyticsKind } from '../../src/model/analytics.js';
import { analyticsRow, type AnalyticsAnswer } from './answer.js';

export function sqlAnalyticsAnswer(kind: AnalyticsKind, rows: readonly unknown[][]): AnalyticsAnswer {
  const n = (v: unknown) => Number(v);
  const out = rows.map((r) => {
    switch (kind) {
      case 'convoy':
      case 'frequent':
        return analyticsRow([String(r[0]), n(r[1]), n(r[2]), n(r[3]), n(r[4])]);
      case 'multisite':
        return analyticsRow([String(r[0]), (r[1] as unknown[]).map(n), n(r[2])]);
      case 'cloned':
        return analyticsRow([String(r[0]), n(r[1]), String(r[3]), String(r[4]), n(r[2])]);
    }
  });
  const totalAt = kind === 'multisite' ? 3 : 5;
  return { kind: 'analytics', total: rows.length > 0 ? n(rows[0]![totalAt]) : 0, rows: out };
}
