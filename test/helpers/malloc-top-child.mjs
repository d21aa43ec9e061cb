/**
 * test/malloc-arenas.test.ts's child for `fixMallocThresholds`. Main thread: fixes the thresholds with `--fix`
 * (the arenas left uncapped: the worker's arena is then its own, never the main one, whose top malloc_trim does
 * shrink), starts itself as a worker, calls malloc_trim(0) once the worker freed its buffers, and prints its thread
 * arenas' resident bytes. Worker: frees a mapped 30 MiB buffer (glibc's dynamic thresholds rise
 * to 30 / 60 MiB), then allocates 48 MiB of 512 KiB buffers (from its arena now) and frees them. Plain JS: run by
 * node as is, against dist/.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const dist = new URL('../../dist/', import.meta.url);

if (isMainThread) {
  const { fixMallocThresholds } = await import(new URL('src/core/malloc-arenas.js', dist).href);
  const { libc } = await import(new URL('src/core/libc.js', dist).href);
  const { memoryMap } = await import(new URL('bench/proc-memory.js', dist).href);
  const fixed = process.argv.includes('--fix') ? fixMallocThresholds() : false;
  const w = new Worker(new URL(import.meta.url));
  await new Promise((r) => w.once('message', r));
  libc().mallocTrim(0);
  const threadArenas = memoryMap().threadArenas;
  await w.terminate();
  process.stdout.write(JSON.stringify({ fixed, threadArenas }) + '\n');
} else {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  // the collector frees a backing store on a background thread, later: waits until the bytes left the RSS
  const freed = async (drop, from) => {
    for (let i = 0; i < 100 && from - rss() < drop; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let big = Buffer.allocUnsafeSlow(30 << 20).fill(1);
  const withBig = rss();
  big = null;
  await freed(24 << 20, withBig);
  let kept = [];
  for (let i = 0; i < 96; i++) kept.push(Buffer.allocUnsafeSlow(512 << 10).fill(i));
  const held = rss();
  kept = null;
  await freed(16 << 20, held);
  await new Promise((r) => setTimeout(r, 200));
  parentPort.postMessage('freed');
}
