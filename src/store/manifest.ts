/**
 * A tenant's manifest, `D/tenants/<tenant>/manifest.json`: the catalogue of its shards and the counters
 * that must never go back. It is the commit point of sealing and retention: a shard file exists for
 * searches only once the manifest naming it is durable, and WAL rows with `seq < sealedSeq` are in shards.
 *
 *   { "format": "platesearch-manifest", "version": 1, "crc": <CRC32C of canonical body JSON>, "body": {
 *       "tenant", "ordinal", "nextSeq", "sealedSeq", "shards": [ShardEntry…] } }
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CorruptFile, UnsupportedFormat } from '../errors.js';
import { crc32c } from './crc32c.js';
import { writeFileAtomic } from './durable-fs.js';
import type { WrappedKeyJson } from '../crypto/data-keys.js';

/** 2: shard entries carry their wrapped data keys. 1 (read only): plaintext shards. */
export const kManifestVersion = 2;
const kReadableVersions = [1, 2];
export const kManifestName = 'manifest.json';

export interface ShardEntry {
  /** File name inside `D/tenants/<tenant>/shards/`. */
  file: string;
  /** UTC day (days since the epoch) every row of the shard falls in. */
  day: number;
  rows: number;
  minTs: number;
  maxTs: number;
  minSeq: number;
  maxSeq: number;
  bytes: number;
  /** Distinct plates: sizes the arena region (file + 16-byte plate slots + zone maps) before reading. */
  dictCount: number;
  /** CRC32C of the whole file as stored. */
  crc: number;
  /**
   * The file's data key, wrapped under the tenant's KEK of `day` (manifest version 2: the manifest is the
   * tenant's keyring of shards, so key rotation rewraps here without touching the files). Absent: a
   * plaintext shard written before encryption (read by the migration only).
   */
  key?: WrappedKeyJson;
  /** Bytes of the shard file inside the sealed one (sealed shards). */
  plainBytes?: number;
  /**
   * Shard file format (src/store/shard-format.ts): 2. Absent: format 1 (Arrow IPC), converted to 2 when the
   * data dir is opened (src/store/shard-migrate.ts).
   */
  format?: number;
}

export interface TenantManifest {
  tenant: string;
  /** The tenant's number in read ids (src/store/ids.ts). */
  ordinal: number;
  /** Every seq below this was given out once; the next append starts at or above it. */
  nextSeq: number;
  /** Every WAL row with a seq below this is in a shard (or was deleted by retention). */
  sealedSeq: number;
  shards: ShardEntry[];
  /** Next shard file generation: shard names are never reused, so a rewrite never overwrites a live file. */
  nextShardGen?: number;
}

const enc = new TextEncoder();

export async function writeManifest(tenantDir: string, m: TenantManifest): Promise<void> {
  const body = JSON.stringify(m);
  const crc = crc32c(enc.encode(body));
  const text = `{"format":"platesearch-manifest","version":${kManifestVersion},"crc":${crc},"body":${body}}\n`;
  await writeFileAtomic(path.join(tenantDir, kManifestName), enc.encode(text));
}

/** Reads a manifest; undefined if there is none. A damaged or unknown one is a coded error naming the file. */
export async function readManifest(tenantDir: string): Promise<TenantManifest | undefined> {
  const file = path.join(tenantDir, kManifestName);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let outer: { format?: unknown; version?: unknown; crc?: unknown; body?: unknown };
  try {
    outer = JSON.parse(text);
  } catch {
    throw CorruptFile(`Manifest is not valid JSON: ${file}`, { file });
  }
  if (outer.format !== 'platesearch-manifest') throw CorruptFile(`Not a platesearch manifest: ${file}`, { file });
  if (!kReadableVersions.includes(outer.version as number)) {
    throw UnsupportedFormat(`Manifest version ${String(outer.version)} is not supported: ${file}`, { file });
  }
  const body = JSON.stringify(outer.body);
  if (crc32c(enc.encode(body)) !== outer.crc) throw CorruptFile(`Manifest checksum mismatch: ${file}`, { file });
  return outer.body as TenantManifest;
}
