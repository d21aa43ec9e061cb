/**
 * What a fresh page costs on this machine: the time to touch one byte of each 4 KiB page of memory the
 * process never used, and the same after `madvise(MADV_POPULATE_WRITE)` mapped the range in one call. Each
 * first touch is a minor page fault; on a VM with paravirtual (shadow) paging it is far dearer than the
 * kernel's work for it, which is what the open, bulk-load and seal paths' fresh buffers pay for.
 *
 *   npm run build && node dist/bench/page-touch.js [--mib 256] [--runs 3]
 *
 * Per run and kind: wall ms, minor faults (getrusage), and ms a 1,000 pages. Kinds: `touch` (a fresh
 * Uint8Array, one byte a page), `populate+touch` (populated first, then touched: the populate's own time
 * shown apart), `retouch` (the same pages again: the floor). WebAssembly memory, shared or not, behaves like
 * the plain buffer here.
 */
import { libc } from '../src/core/libc.js';

const kPage = 4096;
const kPopulateWrite = 23; // MADV_POPULATE_WRITE, Linux 5.14

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

const mib = arg('mib', 256), runs = arg('runs', 3);
const bytes = mib * 2 ** 20;
const faults = (): number => process.resourceUsage().minorPageFault;

function touch(b: Uint8Array, v: number): number {
  const t = performance.now();
  for (let i = 0; i < b.length; i += kPage) b[i] = v;
  return performance.now() - t;
}

const line = (kind: string, ms: number, f: number, extra = ''): void =>
  console.log(`${kind.padEnd(15)} ${ms.toFixed(0).padStart(6)} ms  ${String(f).padStart(8)} faults  ${(ms / (bytes / kPage / 1000)).toFixed(2).padStart(6)} ms a 1,000 pages${extra}`);

console.log(`page-touch: ${mib} MiB, ${bytes / kPage} pages a run; madvise ${libc() ? 'available' : 'not available'}`);
for (let r = 0; r < runs; r++) {
  // a WebAssembly memory, as the arenas are: grown, so its pages are fresh
  const plain = new Uint8Array(new WebAssembly.Memory({ initial: bytes / 65536 }).buffer);
  let f = faults();
  const ms = touch(plain, 1);
  line('touch', ms, faults() - f);
  f = faults();
  line('retouch', touch(plain, 2), faults() - f);
  const c = libc();
  if (c) {
    const b = new Uint8Array(new WebAssembly.Memory({ initial: bytes / 65536 }).buffer);
    const t = performance.now();
    f = faults();
    const rc = c.madvise(b, b.length, kPopulateWrite);
    const popMs = performance.now() - t;
    const popFaults = faults() - f;
    f = faults();
    const touchMs = touch(b, 1);
    line('populate+touch', popMs + touchMs, popFaults + faults() - f, `  (madvise ${rc === 0 ? 'ok' : 'failed'}: ${popMs.toFixed(0)} ms, ${popFaults} faults; then touch ${touchMs.toFixed(0)} ms)`);
  }
}
