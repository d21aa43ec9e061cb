/**
 * The key hierarchy: names of key-encryption keys (KEKs) in the key store. An *epoch* is a set of data
 * whose keys live and die together; each epoch has one or more generations of KEK, `<epoch>/<gen>`, the
 * highest being the one new data keys are wrapped under (older ones still open what they wrapped until
 * they are destroyed).
 *
 *   t/<tenant>/d/<day>      reads of one UTC day (days since the epoch): WAL lanes, shards, alert records.
 *                           Retention destroys every generation of a day wholly past the cutoff; the day
 *                           at the cutoff gets a new generation, its retained reads are rewritten under
 *                           it, and the older generations are destroyed.
 *   t/<tenant>/a/<yyyymm>   the tenant's audit records of one UTC month (audit retention, not read retention)
 *   t/<tenant>/h            the tenant's hot lists
 *   t/<tenant>/l            the tenant's alert log (joined with the read's day key: either one shreds it)
 *   t/<tenant>/holds        the tenant's legal holds (control/holds/<tenant>.json: plates, cases)
 *   t/<tenant>/approvals    the tenant's approval requests (governance/approvals/<tenant>.approvals)
 *   t/<tenant>/acks         the tenant's alert acknowledgements (alerts/<tenant>.acks: free-text notes)
 *   s/check                 proves that a key store is the data dir's own (src/crypto/data-dir-keys.ts)
 *
 * Tenant names are slugs (src/model/tenant.ts) and `_system`, so names need no escaping.
 */
export function dayEpoch(tenant: string, day: number): string {
  return `t/${tenant}/d/${day}`;
}

export function auditEpoch(tenant: string, ms: number): string {
  const d = new Date(ms);
  return `t/${tenant}/a/${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function hotlistEpoch(tenant: string): string {
  return `t/${tenant}/h`;
}

export function alertLogEpoch(tenant: string): string {
  return `t/${tenant}/l`;
}

export function holdsEpoch(tenant: string): string {
  return `t/${tenant}/holds`;
}

export function approvalsEpoch(tenant: string): string {
  return `t/${tenant}/approvals`;
}

export function ackLogEpoch(tenant: string): string {
  return `t/${tenant}/acks`;
}

/** Every KEK of a tenant starts with this. */
export function tenantKeyPrefix(tenant: string): string {
  return `t/${tenant}/`;
}

/** Every day epoch of a tenant starts with this. */
export function tenantDayPrefix(tenant: string): string {
  return `t/${tenant}/d/`;
}

export const kCheckKek = 's/check';

/** Splits `<epoch>/<gen>`; undefined when the name has no generation. */
export function splitKekName(name: string): { epoch: string; gen: number } | undefined {
  const i = name.lastIndexOf('/');
  const gen = Number(name.slice(i + 1));
  if (i <= 0 || !Number.isSafeInteger(gen) || gen < 1) return undefined;
  return { epoch: name.slice(0, i), gen };
}

/** The day of a `t/<tenant>/d/<day>` epoch. */
export function dayOfEpoch(epoch: string): number | undefined {
  const m = /^t\/[^/]+\/d\/(-?\d+)$/.exec(epoch);
  return m ? Number(m[1]) : undefined;
}
