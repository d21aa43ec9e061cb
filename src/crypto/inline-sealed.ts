/**
 * Small whole files that carry their own data key (hot lists, legal holds, approvals): the plaintext is
 * sealed (sealed-file.ts) under a fresh data key wrapped under the current KEK of `epoch`, and the wrapped
 * key rides inline in the sealed header. Rewriting such a file is how it moves to a new KEK generation
 * (key rotation); destroying the epoch's KEKs shreds every copy of it (tenant purge).
 */
import { CorruptFile } from '../errors.js';
import type { DataKeys } from './data-keys.js';
import { decodeKeyRef, encodeKeyRef } from './key-ref.js';
import { openSealedFile, readSealedHeader, sealFile } from './sealed-file.js';

/** The file's bytes: `plain` sealed under a fresh key of `epoch`, the key inline. */
export async function sealInline(keys: DataKeys, kind: number, epoch: string, plain: Uint8Array): Promise<Buffer> {
  const k = await keys.newKey(epoch);
  return Buffer.concat(sealFile(kind, k.key, plain, encodeKeyRef(k), undefined, keys.cipher));
}

/**
 * The plaintext of a file sealed by sealInline. A file of another kind, or with a damaged key reference,
 * is PS_CORRUPT_FILE; a destroyed KEK is PS_KEY_DESTROYED (the data was shredded).
 */
export async function openInline(keys: DataKeys, kind: number, file: string, bytes: Uint8Array): Promise<Buffer> {
  const header = readSealedHeader(file, bytes);
  if (header.kind !== kind) throw CorruptFile(`Sealed file of kind ${header.kind} where kind ${kind} was expected: ${file}`, { file });
  const ref = decodeKeyRef(header.keyRef);
  if (!ref) throw CorruptFile(`Sealed file has a damaged key reference: ${file}`, { file });
  const key = await keys.openKey(ref.ref);
  return Buffer.from(openSealedFile(file, bytes, key, undefined, 0, keys.cipher).plain);
}
