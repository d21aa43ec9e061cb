/**
 * CPU time of the server process (user + system, from /proc/<pid>/stat) and of this process, so a phase can
 * report CPU per request: on a shared machine wall-clock latency moves with everybody else's load, CPU
 * time per request much less. Linux only; elsewhere the server's figure is NaN.
 */
import { readFileSync } from 'node:fs';

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

/** Runs `phase` and adds the server's and this process's CPU ms per request. */
export async function withCpu<T extends { requests: number }>(pid: number, phase: () => Promise<T>): Promise<T & { serverCpuMsPerRequest: number; serverMainCpuMsPerRequest: number; clientCpuMsPerRequest: number }> {
  const s0 = processCpuMs(pid), m0 = mainThreadCpuMs(pid), c0 = selfCpuMs();
  const r = await phase();
  const s1 = processCpuMs(pid), m1 = mainThreadCpuMs(pid), c1 = selfCpuMs();
  const per = (ms: number) => Math.round((ms / Math.max(1, r.requests)) * 1000) / 1000;
  return { ...r, serverCpuMsPerRequest: per(s1 - s0), serverMainCpuMsPerRequest: per(m1 - m0), clientCpuMsPerRequest: per(c1 - c0) };
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
