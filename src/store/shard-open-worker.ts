/**
 * A shard-open worker: checks a sealed shard's stored bytes (CRC32C against its manifest entry), which the
 * opening thread read into the shared arena memory, and opens its segments (AES-256-GCM) in place there, so a data dir's shards are checked and decrypted on several threads at once
 * (src/store/shard-open-pool.ts); then, when asked, re-encodes its lanes in memory there (src/store/shard-reencode.ts)
 * and answers the header after it. Indexing stays on the opening thread. Plain JS at run time
 * (dist/src/store/shard-open-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { cipherInWorker, type Cipher } from '../crypto/cipher.js';
import { openSealedFile } from '../crypto/sealed-file.js';
import { CorruptFile, isPlatesearchError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { reencodeInWorker, type ReencodeAnswer, type ReencodeLimits } from './shard-reencode.js';

export interface OpenShardJob {
  id: number;
  /** Where the shard is, for messages. */
  file: string;
  /** Stored bytes of the file, at `ptr`. */
  stored: number;
  crc: number;
  key: Uint8Array;
  /** The arena's shared memory and the region's offset in it. */
  memory: WebAssembly.Memory;
  ptr: number;
  /** The cipher's module when it is not AES-256-GCM (a benchmark's stand-in; src/crypto/cipher.ts). */
  cipherModule?: string;
  /** Re-encode the opened shard's lanes (its plaintext is `plainBytes` at `ptr`) under the caller's knobs. */
  reencode?: { plainBytes: number; limits: ReencodeLimits };
}

export interface OpenShardAnswer {
  id: number;
  /** The re-encoding's answer, when asked and the header parsed. */
  reencoded?: ReencodeAnswer;
  error?: { code?: string; message: string; details?: Record<string, unknown> };
}

const ciphers = new Map<string | undefined, Promise<Cipher>>();

function run(job: OpenShardJob): Promise<ReencodeAnswer | undefined> | undefined {
  const stored = new Uint8Array(job.memory.buffer, job.ptr, job.stored);
  if (crc32c(stored) !== job.crc) throw CorruptFile(`Shard checksum mismatch: ${job.file}`, { file: job.file });
  let cipher = ciphers.get(job.cipherModule);
  if (!cipher) ciphers.set(job.cipherModule, (cipher = cipherInWorker(job.cipherModule)));
  return cipher.then((c) => {
    openSealedFile(job.file, stored, job.key, new Uint8Array(job.memory.buffer), job.ptr, c);
    const r = job.reencode;
    return r ? reencodeInWorker(job.file, job.memory, job.ptr, r.plainBytes, r.limits) : undefined;
  });
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: OpenShardJob) => {
    Promise.resolve()
      .then(() => run(job))
      .then(
        (reencoded) => port.postMessage((reencoded ? { id: job.id, reencoded } : { id: job.id }) satisfies OpenShardAnswer),
        (err: unknown) => port.postMessage({
          id: job.id,
          error: isPlatesearchError(err) ? { code: err.code, message: err.message, details: err.details } : { message: String((err as Error)?.stack ?? err) },
        } satisfies OpenShardAnswer),
      );
  });
}
