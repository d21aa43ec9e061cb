/**
 * Fault injection for the store's and the audit trail's file-system seams (src/store/fs.ts,
 * src/server/audit/fs.ts). A `FaultPlan` counts the operations of one kind on files whose path matches,
 * and makes the K-th (1-based) fail, once or for ever, with ENOSPC, EIO, a short write (fewer bytes
 * written, no error: the writer must loop) or a torn write (half the bytes written, then EIO).
 */
import { type AuditFile, type AuditFs, nodeAuditFs } from '../../src/server/audit/fs.js';
import { nodeStoreFs, type StoreFile, type StoreFs } from '../../src/store/fs.js';

export type FaultOp = 'open' | 'write' | 'sync' | 'rename' | 'unlink' | 'mkdir' | 'syncDir' | 'truncate';
export type FaultKind = 'ENOSPC' | 'EIO' | 'short' | 'torn';

export interface FaultRule {
  op: FaultOp;
  kind: FaultKind;
  /** Only operations on paths matching this count (default: all). */
  path?: RegExp;
  /** The first matching operation to fail, 1-based (default 1). */
  at?: number;
  /** 'once' fails operation `at` only; 'forever' fails it and every later one until cleared. */
  mode?: 'once' | 'forever';
}

export class FaultPlan {
  private rules: Array<FaultRule & { seen: number }> = [];
  /** Faults injected so far, by `op:kind`. */
  readonly injected = new Map<string, number>();
  /** Operations seen, by op (whether they failed or not). */
  readonly ops = new Map<FaultOp, number>();

  add(rule: FaultRule): this {
    this.rules.push({ ...rule, seen: 0 });
    return this;
  }

  /** The disk heals: no more faults. */
  clear(): void {
    this.rules = [];
  }

  get total(): number {
    let n = 0;
    for (const v of this.injected.values()) n += v;
    return n;
  }

  /** The fault for this operation, if one applies (counts it). */
  check(op: FaultOp, path: string): FaultKind | undefined {
    this.ops.set(op, (this.ops.get(op) ?? 0) + 1);
    for (const r of this.rules) {
      if (r.op !== op || (r.path && !r.path.test(path))) continue;
      r.seen++;
      const at = r.at ?? 1;
      const hit = (r.mode ?? 'once') === 'once' ? r.seen === at : r.seen >= at;
      if (!hit) continue;
      const key = `${op}:${r.kind}`;
      this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
      return r.kind;
    }
    return undefined;
  }
}

export function errnoError(code: 'ENOSPC' | 'EIO', what: string): NodeJS.ErrnoException {
  const msg = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  return Object.assign(new Error(`${code}: ${msg}, ${what}`), { code, errno: code === 'ENOSPC' ? -28 : -5, syscall: what });
}

function failPlain(kind: FaultKind | undefined, what: string): void {
  if (kind === 'ENOSPC' || kind === 'EIO') throw errnoError(kind, what);
  if (kind === 'short' || kind === 'torn') throw errnoError('EIO', what); // not a write: a short one is an I/O error
}

/** Bytes a short or torn write lets through: half, at least 1 (so the writer makes progress). */
const partial = (len: number): number => Math.max(1, Math.floor(len / 2));

function concat(bufs: readonly Uint8Array[]): Buffer {
  return Buffer.concat(bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
}

class FaultyStoreFile implements StoreFile {
  constructor(private readonly file: StoreFile, private readonly path: string, private readonly plan: FaultPlan) {}
  private async writeSome(buf: Uint8Array, offset: number, length: number, position?: number): Promise<number> {
    const put = (len: number): Promise<number> =>
      position === undefined ? this.file.write(buf, offset, len) : this.file.writev([buf.subarray(offset, offset + len)], position);
    const kind = this.plan.check('write', this.path);
    if (kind === 'short') return put(partial(length));
    if (kind === 'torn') {
      await put(partial(length));
      throw errnoError('EIO', `write ${this.path}`);
    }
    failPlain(kind, `write ${this.path}`);
    return put(length);
  }
  write(buf: Uint8Array, offset: number, length: number): Promise<number> {
    return this.writeSome(buf, offset, length);
  }
  writev(bufs: readonly Uint8Array[], position?: number): Promise<number> {
    const all = concat(bufs);
    return this.writeSome(all, 0, all.length, position);
  }
  async datasync(): Promise<void> {
    failPlain(this.plan.check('sync', this.path), `fdatasync ${this.path}`);
    return this.file.datasync();
  }
  async sync(): Promise<void> {
    failPlain(this.plan.check('sync', this.path), `fsync ${this.path}`);
    return this.file.sync();
  }
  async truncate(length: number): Promise<void> {
    failPlain(this.plan.check('truncate', this.path), `ftruncate ${this.path}`);
    return this.file.truncate(length);
  }
  close(): Promise<void> {
    return this.file.close();
  }
}

/** The real store file system with `plan`'s faults. */
export function faultyStoreFs(plan: FaultPlan, base: StoreFs = nodeStoreFs): StoreFs {
  return {
    async open(path, flags) {
      failPlain(plan.check('open', path), `open ${path}`);
      return new FaultyStoreFile(await base.open(path, flags), path, plan);
    },
    async rename(from, to) {
      failPlain(plan.check('rename', to), `rename ${to}`);
      return base.rename(from, to);
    },
    async unlink(path) {
      failPlain(plan.check('unlink', path), `unlink ${path}`);
      return base.unlink(path);
    },
    async mkdir(path) {
      failPlain(plan.check('mkdir', path), `mkdir ${path}`);
      return base.mkdir(path);
    },
    async syncDir(path) {
      failPlain(plan.check('syncDir', path), `fsync ${path}`);
      return base.syncDir(path);
    },
  };
}

class FaultyAuditFile implements AuditFile {
  constructor(private readonly file: AuditFile, private readonly path: string, private readonly plan: FaultPlan) {}
  async write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const kind = this.plan.check('write', this.path);
    if (kind === 'short') return this.file.write(buf, offset, partial(length), position);
    if (kind === 'torn') {
      await this.file.write(buf, offset, partial(length), position);
      throw errnoError('EIO', `write ${this.path}`);
    }
    failPlain(kind, `write ${this.path}`);
    return this.file.write(buf, offset, length, position);
  }
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.file.read(buf, offset, length, position);
  }
  async sync(): Promise<void> {
    failPlain(this.plan.check('sync', this.path), `fdatasync ${this.path}`);
    return this.file.sync();
  }
  async truncate(length: number): Promise<void> {
    failPlain(this.plan.check('truncate', this.path), `ftruncate ${this.path}`);
    return this.file.truncate(length);
  }
  size(): Promise<number> {
    return this.file.size();
  }
  close(): Promise<void> {
    return this.file.close();
  }
}

/** The real audit file system with `plan`'s faults. */
export function faultyAuditFs(plan: FaultPlan, base: AuditFs = nodeAuditFs): AuditFs {
  return {
    ...base,
    async openReadWrite(path) {
      failPlain(plan.check('open', path), `open ${path}`);
      return new FaultyAuditFile(await base.openReadWrite(path), path, plan);
    },
    async openRead(path) {
      return new FaultyAuditFile(await base.openRead(path), path, plan);
    },
    async mkdir(path) {
      failPlain(plan.check('mkdir', path), `mkdir ${path}`);
      return base.mkdir(path);
    },
    async syncDir(path) {
      failPlain(plan.check('syncDir', path), `fsync ${path}`);
      return base.syncDir(path);
    },
  };
}
