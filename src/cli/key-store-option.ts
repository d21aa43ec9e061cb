/**
 * `--key-store K`, taken by every command that reads or writes a data dir (API.md, encryption at rest).
 * The key store is opened and checked against the data dir before the command writes anything; a missing,
 * wrong or damaged one ends the command with its coded message (src/cli/main.ts prints `CODE: message`).
 */
import type { DataKeys } from '../crypto/data-keys.js';
import { openDataDirKeys } from '../crypto/data-dir-keys.js';

export const keyStoreOption = { 'key-store': { type: 'string' } } as const;

export const keyStoreUsage = `--key-store K: where the data dir's keys live: file:DIR (key files, mode 0600; the default is
file:D.keys beside the data dir; for development) or pkcs11:module=PATH;token=LABEL;pin-file=PATH
(an HSM through PKCS#11). A missing or wrong key store stops the command before anything is written.`;

/** Opens the data dir's keys for a command; the file store's development warning goes to stderr. */
export async function openCommandKeys(command: string, dataDir: string, spec: string | undefined): Promise<DataKeys> {
  const { keys } = await openDataDirKeys(dataDir, spec, { warn: (m) => process.stderr.write(`platesearch ${command}: warning: ${m}\n`) });
  return keys;
}
