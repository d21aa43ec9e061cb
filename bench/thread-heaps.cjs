/**
 * Preloaded into a server by `live-ingest-rss --thread-heaps` (NODE_OPTIONS=--require=…; a preload runs in
 * every worker thread too): each thread writes its V8 heap figures and its script's name to
 * `$PS_THREAD_HEAPS_DIR/<pid>-<threadId>.json` once a second, so the benchmark can split the process's
 * "other anonymous" memory (every isolate's heap) by thread. CommonJS and plain JS: node loads it as is.
 */
'use strict';
const { threadId, isMainThread } = require('node:worker_threads');
const { getHeapStatistics, getHeapSpaceStatistics } = require('node:v8');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.PS_THREAD_HEAPS_DIR;
if (dir) {
  const file = path.join(dir, `${process.pid}-${threadId}.json`);
  const timer = setInterval(() => {
    // a worker's script is in its argv only once it runs, not while preloads do
    const script = isMainThread ? 'main' : path.basename(process.argv[1] || '?');
    const h = getHeapStatistics();
    const m = process.memoryUsage();
    // per space (new, old, code, large object…): resident bytes and used bytes, to tell a grown young generation from live data
    const spaces = {};
    for (const sp of getHeapSpaceStatistics()) spaces[sp.space_name] = [sp.physical_space_size, sp.space_used_size];
    fs.writeFileSync(file, JSON.stringify({ threadId, script, heapTotal: h.total_heap_size, heapUsed: h.used_heap_size, heapPhysical: h.total_physical_size, arrayBuffers: m.arrayBuffers, external: h.external_memory, spaces, at: Date.now() }));
  }, 1000);
  timer.unref();
}
