/**
 * Key rotation of one tenant (`platesearch keys rotate`): every epoch of the tenant gets a new KEK
 * generation, and every data key the data dir keeps wrapped is wrapped again under it, without rewriting
 * data where the keyring is apart from the data (shard keys in the manifest, the audit keyring). Files that
 * carry their key inline are rewritten (hot lists, legal holds, approvals, alert acks: small) or moved to fresh lanes (the live WAL, alert logs).
 *
 * Older generations stay, by default: copies and backups of the data dir taken before still open until
 * retention or purge destroys them. With `destroyOld` (a KEK suspected compromised) they are destroyed
 * at the end, and older copies no longer open.
 */
import { dayEpoch, splitKekName, tenantKeyPrefix } from './key-names.js';
import type { DataKeys } from './data-keys.js';

/** Every epoch of the tenant that has a KEK. */
export async function tenantEpochs(keys: DataKeys, tenant: string): Promise<string[]> {
  const epochs = new Set<string>();
  for (const name of await keys.list(tenantKeyPrefix(tenant))) {
    const s = splitKekName(name);
    if (s) epochs.add(s.epoch);
  }
  return [...epochs].sort();
}

/** New generations for every epoch of the tenant; returns the generations they replace. */
export async function bumpTenant(keys: DataKeys, tenant: string): Promise<string[]> {
  const old: string[] = [];
  for (const epoch of await tenantEpochs(keys, tenant)) {
    old.push(...(await keys.generations(epoch)).map((g) => `${epoch}/${g}`));
    await keys.bump(epoch);
  }
  return old;
}

export { dayEpoch };
