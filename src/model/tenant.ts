/**
 * Tenants (agencies) and users are named by short slugs: they appear in file names
 * (`audit/<tenant>.jsonl`), URLs (`/v1/sharing/{grantee}`) and ids, so no path tricks can pass.
 */
const kSlug = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Tenant names: lower-case letters, digits, `.`, `_`, `-`; 1–63 characters; not starting with a symbol. */
export function isTenantName(s: unknown): s is string {
  return typeof s === 'string' && kSlug.test(s) && !s.includes('..');
}

/** User names follow the same rule, so they can key files too. */
export const isUserName = isTenantName;

/** The audit log of requests whose tenant is unknown (API.md). Never a valid tenant name. */
export const kSystemTenant = '_system';

export const kRoles = ['ingest', 'investigator', 'dispatcher', 'auditor', 'admin', 'supervisor'] as const;
export type Role = (typeof kRoles)[number];
export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (kRoles as readonly string[]).includes(s);
}

/**
 * Roles that carry others with them (API.md v1.1: a `supervisor` may everything an `investigator` may, plus
 * approvals). The one place the implication lives: the pipeline's role check asks `hasAnyRole`, so every
 * route that lists `investigator` accepts a supervisor without naming it. (`dispatcher` is named on the
 * routes it shares with `investigator`, as v1 did; it is not widened here to routes added for
 * investigators only, such as filing an approval request.)
 */
const kImpliedRoles: Readonly<Partial<Record<Role, readonly Role[]>>> = {
  supervisor: ['investigator'],
};

/** The roles a user holds, with the roles they imply. */
export function effectiveRoles(roles: readonly Role[]): Set<Role> {
  const out = new Set<Role>(roles);
  for (const r of roles) for (const implied of kImpliedRoles[r] ?? []) out.add(implied);
  return out;
}

/** Whether a user with `held` roles may call something open to any of `allowed`. */
export function hasAnyRole(held: readonly Role[], allowed: readonly Role[]): boolean {
  const eff = effectiveRoles(held);
  return allowed.some((r) => eff.has(r));
}
