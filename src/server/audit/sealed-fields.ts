/**
 * What of an audit record is sealed, and how (API.md, encryption at rest): every field that may carry a plate,
 * a camera, a hot-list entry, a search parameter, a purpose or a case goes into one `sealed` field, base64 of
 * its AES-256-GCM ciphertext. The fields left in clear are the ones verification, paging and filtering need
 * and that hold none of those: kPlainAuditFields. Any other field a route adds is sealed too, so a new field
 * can never leak by default.
 *
 *   record as stored: {…plain fields, "sealed": base64(ciphertext ‖ tag), "sealedBy": "<keyId>:<counter>"}
 *   plaintext       : canonical JSON of the sealed fields
 *   nonce           : counterNonce(0, counter), counter per data key; AAD: "platesearch-audit\n<tenant>\n<seq>"
 *
 * Pure (no key store, no files): the writer thread seals with it (batch.ts), and the keys it takes are the
 * ones sealing.ts made and made durable in the keyring.
 */
import { counterNonce } from '../../crypto/aead.js';
import type { Cipher } from '../../crypto/cipher.js';
import { canonicalJson } from './record.js';

/** Fields kept in clear: identity, time, outcome and chain (no plate, camera, parameter, purpose or case). */
export const kPlainAuditFields: ReadonlySet<string> = new Set([
  'seq', 'ts', 'requestId', 'tenant', 'actorTenant', 'user', 'action', 'outcome', 'status', 'resultCount',
  'tenantsTouched', 'ip', 'durationMs', 'prev', 'hash',
]);

/** The associated data of a record's sealed fields: moving them to another log or seq fails to open. */
export function auditAad(tenant: string, seq: number): Buffer {
  return Buffer.from(`platesearch-audit\n${tenant}\n${seq}`);
}

/** A data key of one log, as the sealer hands it to a batch: its id in the keyring and the batch's first counter. */
export interface SealKey {
  id: string;
  key: Uint8Array;
  counter: number;
}

/** `body` (a record with its seq, before hashing) with its sealed fields moved into `sealed` under `counter`. */
export function sealFields(cipher: Cipher, key: Uint8Array, keyId: string, counter: number, tenant: string, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const hidden: Record<string, unknown> = {};
  for (const k of Object.keys(body)) {
    if (kPlainAuditFields.has(k)) out[k] = body[k];
    else hidden[k] = body[k];
  }
  const sealed = cipher.seal(key, counterNonce(0, counter), Buffer.from(canonicalJson(hidden), 'utf8'), auditAad(tenant, body.seq as number));
  out.sealed = sealed.toString('base64');
  out.sealedBy = `${keyId}:${counter}`;
  return out;
}
