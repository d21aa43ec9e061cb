/**
 * Wake-ups for alert streams: a per-tenant version number bumped whenever alerts for the tenant become
 * durable. A stream notes the version before it reads the log and waits only if it is unchanged, so a
 * wake-up between "read: nothing new" and "wait" is never lost.
 */
export class AlertHub {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  version(tenant: string): number {
    return this.versions.get(tenant) ?? 0;
  }

  /** New durable alerts for `tenant`: wake every waiting stream of it. */
  notify(tenant: string): void {
    this.versions.set(tenant, this.version(tenant) + 1);
    const set = this.waiters.get(tenant);
    if (!set) return;
    this.waiters.delete(tenant);
    for (const wake of set) wake();
  }

  /** Resolves when `tenant`'s version differs from `seen`, after `ms`, or on abort, whichever is first. */
  wait(tenant: string, seen: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.version(tenant) !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(tenant);
      if (!set) this.waiters.set(tenant, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.get(tenant)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
