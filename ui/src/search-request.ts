/**
 * Runs a search or analytics request with the session's reason attached; when no reason is set yet, opens
 * the reason prompt first and asks the caller to try again (the API refuses a search without one anyway).
 */
import { call } from './api';
import { reason, reasonOpen } from './session-state';

export class ReasonMissing extends Error {
  constructor() {
    super('Give a purpose and a case number first.');
  }
}

export async function withReason<T>(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  const r = reason.value;
  if (!r) {
    reasonOpen.value = true;
    throw new ReasonMissing();
  }
  return call<T>('POST', path, { body: { ...body, purpose: r.purpose, case: r.case }, signal });
}
