/**
 * Who is signed in, and why they search. The token lives in sessionStorage only (never localStorage): it
 * dies with the tab, is not shared with other tabs, and sign-out removes it. The reason (purpose and case)
 * is asked once per session and sent with every search and analytics request.
 */
import { computed, signal } from '@preact/signals';

const kTokenKey = 'platesearch.token';
const kReasonKey = 'platesearch.reason';

export type Role = 'ingest' | 'investigator' | 'dispatcher' | 'auditor' | 'admin' | 'supervisor';

export interface Me {
  tenant: string;
  user: string;
  roles: Role[];
  audited: boolean;
}

export interface Reason {
  purpose: string;
  case: string;
}

function readReason(): Reason | null {
  try {
    const r = JSON.parse(sessionStorage.getItem(kReasonKey) ?? 'null') as Reason | null;
    return r && typeof r.purpose === 'string' && typeof r.case === 'string' ? r : null;
  } catch {
    return null;
  }
}

export const token = signal<string | null>(sessionStorage.getItem(kTokenKey));
export const me = signal<Me | null>(null);
export const reason = signal<Reason | null>(readReason());
/** The reason dialog is open (first search of the session, or "Edit reason"). */
export const reasonOpen = signal(false);

export function keepToken(t: string, who: Me): void {
  sessionStorage.setItem(kTokenKey, t);
  token.value = t;
  me.value = who;
}

export function setReason(r: Reason): void {
  sessionStorage.setItem(kReasonKey, JSON.stringify(r));
  reason.value = r;
}

export function clearSession(): void {
  sessionStorage.removeItem(kTokenKey);
  sessionStorage.removeItem(kReasonKey);
  token.value = null;
  me.value = null;
  reason.value = null;
}

function has(...roles: Role[]): boolean {
  return me.value?.roles.some((r) => roles.includes(r)) ?? false;
}

/** What the roles allow (API.md's role table, v1.1's supervisor included). */
export const can = computed(() => {
  void me.value;
  return {
    search: has('investigator', 'dispatcher', 'supervisor'),
    alerts: has('dispatcher'),
    hotlists: has('dispatcher', 'admin'),
    audit: has('auditor'),
    admin: has('admin'),
    // requesting is an investigator's (and so a dispatcher's) right; deciding a supervisor's
    approvals: has('investigator', 'dispatcher', 'supervisor'),
    decide: has('supervisor'),
  };
});
