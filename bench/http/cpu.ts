/**
 * CPU time of the server process (user + system, from /proc/<pid>/stat) and of this process, so a phase can
 * report CPU per request: on a shared machine wall-clock latency moves with everybody else's load, CPU
 * time per request much less. Linux only; elsewhere the server's figure is NaN.
 */
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux/x86-64 and arm64)
const kTicksPerSecond = 100;

/** CPU milliseconds (user + system) the process `pid` has used so far, all threads. */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU milliseconds of the process's main thread alone (its JS, node:http, the engine's inline searches): the
 * figure a change to the request path moves. The whole process also counts V8's compiler and GC threads (a
 * quarter of the server's CPU in an 8-client phase of a 1M run on a loaded box, 2026-12-03, was TurboFan still
 * compiling) and the thread pool's writes.
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * CPU milliseconds of every thread of the process `pid` (`self` for this one) so far, by thread: `main`, else
 * `t<k>` with k its rank by thread id (creation order: V8's platform threads first, then libuv's pool and the
 * worker_threads as they start; Node 20 names them all after the process, so the rank is what tells them
 * apart across two readings). Where a request's core-seconds go on a machine that also runs the load
 * generator. Threads that ended between two readings are missing from the later one.
 */
export function threadCpuMs(pid: number | 'self'): Map<string, number> {
  const by = new Map<string, number>();
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  } catch {
    return by;
  }
  const main = pid === 'self' ? process.pid : pid;
  for (const [k, tid] of tids.entries()) {
    const ms = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
    if (!Number.isNaN(ms)) by.set(tid === main ? 'main' : `t${k}`, ms);
  }
  return by;
}

/** `after − before` per thread, in ms a request, largest first (threads under 0.005 ms dropped). */
export function threadCpuPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number): Record<string, number> {
  const out: Array<[string, number]> = [];
  for (const [name, ms] of after) {
    const per = Math.round(((ms - (before.get(name) ?? 0)) / Math.max(1, requests)) * 1000) / 1000;
    if (per >= 0.005) out.push([name, per]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}

/**
 * Minor page faults of the process `pid` so far, all threads (/proc/<pid>/stat field 10). On this VM (shadow
 * paging) each first touch of a fresh page costs ~11 µs, so a steady-state request should take none.
 */
export function processMinorFaults(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return NaN;
  }
}

function statCpuMs(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // fields after the command name (which may hold spaces), counting from field 3 (state)
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / kTicksPerSecond;
  } catch {
    return NaN;
  }
}

/** CPU milliseconds this process has used so far. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface PhaseCpu {
  serverCpuMsPerRequest: number;
  serverMainCpuMsPerRequest: number;
  /** The server's minor page faults a request (all threads). */
  serverMinorFaultsPerRequest: number;
  clientCpuMsPerRequest: number;
  /** Per thread name of the server and of this process (the load generator), ms a request. */
  serverThreadsCpuMsPerRequest: Record<string, number>;
  clientThreadsCpuMsPerRequest: Record<string, number>;
}

/** Runs `phase` and adds the server's and this process's CPU ms per request, in total and by thread. */
export async function withCpu<T extends { requests: number }>(pid: number, phase: () => Promise<T>): Promise<T & PhaseCpu> {
  const f0 = processMinorFaults(pid);
  const s0 = processCpuMs(pid), m0 = mainThreadCpuMs(pid), c0 = selfCpuMs(), st0 = threadCpuMs(pid), ct0 = threadCpuMs('self');
  const r = await phase();
  const s1 = processCpuMs(pid), m1 = mainThreadCpuMs(pid), c1 = selfCpuMs(), st1 = threadCpuMs(pid), ct1 = threadCpuMs('self');
  const f1 = processMinorFaults(pid);
  const per = (ms: number) => Math.round((ms / Math.max(1, r.requests)) * 1000) / 1000;
  return {
    ...r, serverCpuMsPerRequest: per(s1 - s0), serverMainCpuMsPerRequest: per(m1 - m0),
    serverMinorFaultsPerRequest: Math.round(((f1 - f0) / Math.max(1, r.requests)) * 100) / 100, clientCpuMsPerRequest: per(c1 - c0),
    serverThreadsCpuMsPerRequest: threadCpuPerRequest(st0, st1, r.requests),
    clientThreadsCpuMsPerRequest: threadCpuPerRequest(ct0, ct1, r.requests),
  };
}

/**
 * Waits until the process `pid` is idle: under `idleShare` of one core over a `windowMs` window, or
 * `maxMs` passed. Answers the ms waited (NaN where /proc is not there). Work a server starts by itself
 * after its first searches (the tenants' plate dictionaries and n-gram indexes are built off the thread on
 * the first plate search) is not what a steady-state request costs.
 */
export async function settle(pid: number, idleShare = 0.05, windowMs = 500, maxMs = 120_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const a = processCpuMs(pid);
    if (Number.isNaN(a)) return NaN;
    await new Promise((r) => setTimeout(r, windowMs));
    const used = processCpuMs(pid) - a;
    const waited = performance.now() - t0;
    if (used <= idleShare * windowMs || waited >= maxMs) return Math.round(waited);
  }
}
