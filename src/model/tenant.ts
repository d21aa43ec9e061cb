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

export const kRoles = ['ingest', 'investigator', 'dispatcher', 'auditor', 'admin'] as const;
export type Role = (typeof kRoles)[number];
export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (kRoles as readonly string[]).includes(s);
}
