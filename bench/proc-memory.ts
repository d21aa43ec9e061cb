/** What the RSS benchmarks (load-open-rss.ts, seal-job-rss.ts) share: their flags and this process's memory from /proc. */
import { readFileSync } from 'node:fs';

export const MiB = 2 ** 20;

/** The value after `--name` on the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** This process's resident set now (VmRSS) or at its peak (VmHWM, every thread's), in bytes. */
export function status(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * A process's resident memory by kind of mapping, from /proc/<pid>/smaps (every thread's): what the
 * "rest" of an RSS split (RSS − the main thread's JS heap − external − arenas) is made of.
 *
 * - `mainArena`: glibc's main malloc arena (`[heap]`, the brk heap: the main thread's malloc).
 * - `threadArenas`: glibc's per-thread arenas: other threads' malloc (worker threads' ArrayBuffers and
 *   Buffers below the mmap threshold, libuv's pool, V8's own C++ allocations). Each such heap is a
 *   64 MiB-aligned anonymous mapping of at most 64 MiB (HEAP_MAX_SIZE), read-write from its start.
 * - `wasm`: WebAssembly memories (the arenas): the committed part (one mapping, or several where part of it was
 *   advised MADV_HUGEPAGE) of reservations of 4 GiB and more.
 * - `otherAnon`: every other anonymous mapping: V8 heaps of every isolate, big malloc chunks (mmapped),
 *   thread stacks.
 * - `file`: file-backed mappings (node's binary, libraries).
 */
export interface MemoryMap {
  mainArena: number;
  threadArenas: number;
  wasm: number;
  otherAnon: number;
  file: number;
}

const k64MiB = 64 * 2 ** 20;

/** The mappings of process `pid` (default this one) by kind. */
export function memoryMap(pid: number | 'self' = 'self'): MemoryMap {
  const out: MemoryMap = { mainArena: 0, threadArenas: 0, wasm: 0, otherAnon: 0, file: 0 };
  type Mapping = { start: number; end: number; perms: string; path: string; rss: number };
  const maps: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, path: head[4]!, rss: 0 };
      maps.push(cur);
      continue;
    }
    if (cur && line.startsWith('Rss:')) cur.rss = Number(/(\d+)/.exec(line)![1]) * 1024;
  }
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.path === '[heap]') {
      out.mainArena += m.rss;
      continue;
    }
    if (m.path !== '') {
      if (!m.path.startsWith('[')) out.file += m.rss;
      else out.otherAnon += m.rss;
      continue;
    }
    // a run of adjacent read-write anonymous mappings and the reservation right after it: a wasm memory's
    // committed part is split into several mappings (MADV_HUGEPAGE on part of it makes a mapping of its own)
    let j = i;
    while (maps[j + 1] && maps[j + 1]!.start === maps[j]!.end && maps[j + 1]!.path === '' && maps[j + 1]!.perms.startsWith('rw')) j++;
    const next = maps[j + 1];
    const reservedEnd = next && next.start === maps[j]!.end && next.path === '' && next.perms.startsWith('---') ? next.end : maps[j]!.end;
    if (m.perms.startsWith('rw') && reservedEnd - m.start >= 4 * 2 ** 30) {
      for (let k = i; k <= j; k++) out.wasm += maps[k]!.rss;
      i = j;
      continue;
    }
    const after = maps[i + 1];
    const reservedAfter = after && after.start === m.end && after.path === '' && after.perms.startsWith('---') ? after.end - m.start : m.end - m.start;
    if (m.start % k64MiB === 0 && m.perms.startsWith('rw') && reservedAfter === k64MiB) out.threadArenas += m.rss;
    else out.otherAnon += m.rss;
  }
  return out;
}
