/**
 * The directory of tenants (agencies), their users, bearer tokens, sharing grants and retention.
 *
 * On disk: `D/control/directory.json` (format below), replaced atomically and durably on every change,
 * and guarded for read-modify-write by `D/control/directory.lock`, so `platesearch token create` can run
 * while a server holds the same data dir. The server polls the file (stat every kPollMs) and reloads it
 * when it changed, so a CLI change is seen within a second.
 *
 * Tokens are `ps_<id>_<secret>`: 8 random bytes of id (hex), 32 random bytes of secret (base64url).
 * Only `sha256hex(token)` is stored; authentication looks the id up and compares the hashes in constant
 * time. Roles belong to the user, not the token, so replacing a user's roles changes all its tokens.
 *
 * ```json
 * { "version": 1,
 *   "tenants": { "pd-a": { "created": 1767225600000, "retentionSeconds": 2592000 } },
 *   "users": { "pd-a/alice": { "tenant": "pd-a", "user": "alice", "roles": ["investigator"],
 *              "tokens": [ { "id": "9f…", "sha256": "ab…", "created": 1767225600000 } ] } },
 *   "grants": [ { "grantor": "pd-a", "grantee": "pd-b", "expires": null, "created": 1767225600000 } ] }
 * ```
 */
import { createHash, hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadInput, NotFound, UnsupportedFormat } from '../../errors.js';
import type { TenantScope } from '../../model/query.js';
import { isRole, isTenantName, isUserName, kRoles, type Role } from '../../model/tenant.js';
import { withFileLock, writeFileDurable } from './durable-file.js';

/** Who a valid bearer token speaks for. */
export interface Principal {
  tenant: string;
  user: string;
  roles: Role[];
}

/** Read access to `grantor`'s reads given to `grantee`; `expires` is epoch ms (exclusive) or null. */
export interface Grant {
  grantor: string;
  grantee: string;
  expires: number | null;
  created: number;
}

export interface TenantRecord {
  created: number;
  /** Reads with `ts < now - retentionSeconds*1000` are gone; absent = kept forever. */
  retentionSeconds?: number;
}

interface TokenRecord {
  id: string;
  sha256: string;
  created: number;
}

interface UserRecord {
  tenant: string;
  user: string;
  roles: Role[];
  tokens: TokenRecord[];
}

interface DirectoryFile {
  version: number;
  tenants: Record<string, TenantRecord>;
  users: Record<string, UserRecord>;
  grants: Grant[];
}

/** Bumped when the file's meaning changes; an unknown version is a coded error, never a guess. */
export const kDirectoryVersion = 1;
/** API.md: retention below a minute is refused. */
export const kMinRetentionSeconds = 60;
/** Ten years: longer than any records schedule, and far from overflowing epoch ms. */
export const kMaxRetentionSeconds = 10 * 366 * 86_400;
/** How often a server checks for changes made by other processes; API.md asks for ≤ 1 s. */
const kPollMs = 200;

const kTokenRe = /^ps_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function sha256hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function emptyFile(): DirectoryFile {
  return { version: kDirectoryVersion, tenants: {}, users: {}, grants: [] };
}

function userKey(tenant: string, user: string): string {
  return `${tenant}/${user}`;
}

export interface DirectoryOptions {
  /** Poll the file for changes by other processes (servers: yes; one-shot CLI commands: no). Default true. */
  watch?: boolean;
}

export class Directory {
  readonly path: string;
  private readonly lockPath: string;
  private state: DirectoryFile = emptyFile();
  /** token id → (user key, token hash) */
  private tokenIndex = new Map<string, { key: string; hash: Buffer }>();
  /** A token index entry → the token text last found to hash to it (authenticate). */
  private readonly verified = new WeakMap<object, Buffer>();
  private fileSig = '';
  private timer: NodeJS.Timeout | undefined;
  /** Serialises this process's writers, so they do not spin on the lock file against each other. */
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(readonly dataDir: string) {
    this.path = join(dataDir, 'control', 'directory.json');
    this.lockPath = join(dataDir, 'control', 'directory.lock');
  }

  /** Loads `D/control/directory.json` (an absent file is an empty directory). */
  static async open(dataDir: string, options: DirectoryOptions = {}): Promise<Directory> {
    const dir = new Directory(dataDir);
    dir.reloadIfChanged();
    if (options.watch !== false) {
      dir.timer = setInterval(() => {
        try {
          dir.reloadIfChanged();
        } catch {
          // a half-visible or unreadable file: keep the last good state, try again next tick
        }
      }, kPollMs);
      dir.timer.unref();
    }
    return dir;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writeChain.catch(() => {});
  }

  // ---------------------------------------------------------------- reads (synchronous, in memory)

  /** The principal of a bearer token, or undefined for a malformed, unknown or revoked token. */
  authenticate(bearerToken: string): Principal | undefined {
    if (typeof bearerToken !== 'string') return undefined;
    const m = kTokenRe.exec(bearerToken);
    if (!m) return undefined;
    const entry = this.tokenIndex.get(m[1]!);
    if (!entry) return undefined;
    // a token whose hash was checked against this entry before is compared with its bytes, in constant
    // time: the same answer as hashing it again, without the SHA-256 (~3 µs of every request's main
    // thread). The entry object is replaced when the file is reloaded, which forgets what it verified.
    const text = Buffer.from(bearerToken, 'latin1'); // the pattern above: 63 ASCII characters
    const known = this.verified.get(entry);
    if (known === undefined || !timingSafeEqual(text, known)) {
      // one-shot: no Hash object per request
      const hash = oneShotHash('sha256', bearerToken, 'buffer');
      if (hash.length !== entry.hash.length || !timingSafeEqual(hash, entry.hash)) return undefined;
      this.verified.set(entry, text);
    }
    const user = this.state.users[entry.key];
    if (!user || !this.state.tenants[user.tenant]) return undefined;
    return { tenant: user.tenant, user: user.user, roles: [...user.roles] };
  }

  tenantExists(tenant: string): boolean {
    return Object.hasOwn(this.state.tenants, tenant);
  }

  tenants(): string[] {
    return Object.keys(this.state.tenants).sort();
  }

  /** The tenant's retention in seconds, or undefined when reads are kept forever. */
  retentionSeconds(tenant: string): number | undefined {
    return this.state.tenants[tenant]?.retentionSeconds;
  }

  /** Reads of `tenant` with `ts < cutoff` are gone at time `now`; -Infinity when no retention is set. */
  retentionCutoff(tenant: string, now: number): number {
    const s = this.retentionSeconds(tenant);
    return s === undefined ? -Infinity : now - s * 1000;
  }

  /** Whether `grant` gives access at `now` (expiry is exclusive: at `expires` it is gone). */
  static isActive(grant: Grant, now: number): boolean {
    return grant.expires === null || now < grant.expires;
  }

  /**
   * What `tenant` may see at `now`: itself first, then every existing tenant that granted it access
   * (not revoked, not expired), sorted by name; each with its own retention cutoff.
   */
  scopesFor(tenant: string, now: number): TenantScope[] {
    if (!this.tenantExists(tenant)) return [];
    const scopes: TenantScope[] = [{ tenant, minTs: this.retentionCutoff(tenant, now) }];
    const seen = new Set([tenant]);
    const granted: string[] = [];
    for (const g of this.state.grants) {
      if (g.grantee !== tenant || seen.has(g.grantor) || !Directory.isActive(g, now)) continue;
      if (!this.tenantExists(g.grantor)) continue;
      seen.add(g.grantor);
      granted.push(g.grantor);
    }
    granted.sort();
    for (const t of granted) scopes.push({ tenant: t, minTs: this.retentionCutoff(t, now) });
    return scopes;
  }

  /** Grants given by and received by `tenant` that are active at `now`. */
  listGrants(tenant: string, now: number): { given: Grant[]; received: Grant[] } {
    const active = this.state.grants.filter((g) => Directory.isActive(g, now));
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return {
      given: active.filter((g) => g.grantor === tenant).map((g) => ({ ...g })).sort((a, b) => byName(a.grantee, b.grantee)),
      received: active.filter((g) => g.grantee === tenant).map((g) => ({ ...g })).sort((a, b) => byName(a.grantor, b.grantor)),
    };
  }

  /** The user's current roles, or undefined if there is no such user. */
  userRoles(tenant: string, user: string): Role[] | undefined {
    const u = this.state.users[userKey(tenant, user)];
    return u ? [...u.roles] : undefined;
  }

  // ---------------------------------------------------------------- writes (locked, durable)

  /**
   * Creates the tenant if new, creates the user or replaces its roles (for all of its tokens), and
   * issues a new token. The plain token is returned once and never stored.
   */
  async createToken(tenant: string, user: string, roles: readonly Role[]): Promise<{ token: string; principal: Principal }> {
    if (!isTenantName(tenant)) throw BadInput(`tenant must match [a-z0-9][a-z0-9._-]{0,62}: ${JSON.stringify(tenant)}`);
    if (!isUserName(user)) throw BadInput(`user must match [a-z0-9][a-z0-9._-]{0,62}: ${JSON.stringify(user)}`);
    if (roles.length === 0) throw BadInput('at least one role is required');
    for (const r of roles) if (!isRole(r)) throw BadInput(`role must be one of ${kRoles.join(', ')}: ${JSON.stringify(r)}`);
    const uniqueRoles = kRoles.filter((r) => roles.includes(r));
    const id = randomBytes(8).toString('hex');
    const token = `ps_${id}_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    await this.mutate((s) => {
      if (!Object.hasOwn(s.tenants, tenant)) s.tenants[tenant] = { created: now };
      const key = userKey(tenant, user);
      const u = s.users[key] ?? (s.users[key] = { tenant, user, roles: [], tokens: [] });
      u.roles = [...uniqueRoles];
      u.tokens.push({ id, sha256: sha256hex(token), created: now });
    });
    return { token, principal: { tenant, user, roles: [...uniqueRoles] } };
  }

  /** Creates the tenant if it does not exist (e.g. before a bulk load). */
  async ensureTenant(tenant: string): Promise<void> {
    if (!isTenantName(tenant)) throw BadInput(`tenant must match [a-z0-9][a-z0-9._-]{0,62}: ${JSON.stringify(tenant)}`);
    if (this.tenantExists(tenant)) return;
    const now = Date.now();
    await this.mutate((s) => {
      if (!Object.hasOwn(s.tenants, tenant)) s.tenants[tenant] = { created: now };
    });
  }

  /** Invalidates every token of the user; returns how many there were. The user and roles stay. */
  async revokeUser(tenant: string, user: string): Promise<number> {
    let revoked = 0;
    await this.mutate((s) => {
      const u = s.users[userKey(tenant, user)];
      if (!u) throw NotFound(`no user ${user} in tenant ${tenant}`);
      revoked = u.tokens.length;
      u.tokens = [];
    });
    return revoked;
  }

  /**
   * Gives `grantee` read access to `grantor`'s reads until `expires` (epoch ms, exclusive) or for ever
   * (null). Replaces an existing grant between the two. Self → 400, past expiry → 400, unknown grantee → 404.
   */
  async grant(grantor: string, grantee: string, expires: number | null, now: number = Date.now()): Promise<Grant> {
    if (grantor === grantee) throw BadInput('a tenant cannot share with itself');
    if (expires !== null && (!Number.isFinite(expires) || expires <= now)) throw BadInput('expires must be in the future');
    let result: Grant | undefined;
    await this.mutate((s) => {
      if (!Object.hasOwn(s.tenants, grantor)) throw NotFound(`unknown tenant ${grantor}`);
      if (!Object.hasOwn(s.tenants, grantee)) throw NotFound(`unknown tenant ${grantee}`);
      s.grants = s.grants.filter((g) => !(g.grantor === grantor && g.grantee === grantee));
      result = { grantor, grantee, expires, created: now };
      s.grants.push(result);
    });
    return { ...result! };
  }

  /** Withdraws `grantor`'s grant to `grantee`, effective for the next request; false if there was none. */
  async revokeGrant(grantor: string, grantee: string): Promise<boolean> {
    let existed = false;
    await this.mutate((s) => {
      const before = s.grants.length;
      s.grants = s.grants.filter((g) => !(g.grantor === grantor && g.grantee === grantee));
      existed = s.grants.length !== before;
    });
    return existed;
  }

  /**
   * Off-boards a tenant (`platesearch tenant purge`): every token of its users is revoked and every grant
   * it gave or received withdrawn; the tenant and user names stay (so its audit log keeps its owner, and
   * the name is not reused by accident). Returns the tokens revoked.
   */
  async offboardTenant(tenant: string): Promise<number> {
    let revoked = 0;
    await this.mutate((s) => {
      for (const u of Object.values(s.users)) {
        if (u.tenant !== tenant) continue;
        revoked += u.tokens.length;
        u.tokens = [];
      }
      s.grants = s.grants.filter((g) => g.grantor !== tenant && g.grantee !== tenant);
    });
    return revoked;
  }

  /** Sets (or with null, clears) the tenant's retention. Durable when the promise resolves. */
  async setRetention(tenant: string, retentionSeconds: number | null): Promise<void> {
    if (retentionSeconds !== null) {
      if (!Number.isInteger(retentionSeconds) || retentionSeconds < kMinRetentionSeconds || retentionSeconds > kMaxRetentionSeconds) {
        throw BadInput(`retentionSeconds must be an integer in [${kMinRetentionSeconds}, ${kMaxRetentionSeconds}]`);
      }
    }
    await this.mutate((s) => {
      const t = s.tenants[tenant];
      if (!t) throw NotFound(`unknown tenant ${tenant}`);
      if (retentionSeconds === null) delete t.retentionSeconds;
      else t.retentionSeconds = retentionSeconds;
    });
  }

  /** Re-reads the file now if another process changed it (normally done by the poller). */
  refresh(): void {
    this.reloadIfChanged();
  }

  // ---------------------------------------------------------------- internals

  /**
   * Read-modify-write under the inter-process lock: re-read the newest file, apply `change`, write
   * durably, then adopt the new state in memory, so the caller's answer is sent only after both.
   */
  private mutate(change: (s: DirectoryFile) => void): Promise<void> {
    const run = async () => {
      await withFileLock(this.lockPath, async () => {
        this.reloadIfChanged();
        const next = structuredClone(this.state);
        change(next);
        await writeFileDurable(this.path, JSON.stringify(next, null, 1) + '\n');
        this.adopt(next);
        this.fileSig = this.signature() ?? '';
      });
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => {});
    return p;
  }

  private signature(): string | undefined {
    try {
      const st = statSync(this.path, { bigint: true });
      // every write is a rename of a new file: inode, size and times together tell versions apart
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private reloadIfChanged(): void {
    const sig = this.signature();
    if (sig === undefined) {
      if (this.fileSig !== '') this.adopt(emptyFile());
      this.fileSig = '';
      return;
    }
    if (sig === this.fileSig) return;
    const parsed = parseDirectoryFile(readFileSync(this.path, 'utf8'));
    this.adopt(parsed);
    this.fileSig = sig;
  }

  private adopt(s: DirectoryFile): void {
    const index = new Map<string, { key: string; hash: Buffer }>();
    for (const [key, u] of Object.entries(s.users)) {
      for (const t of u.tokens) index.set(t.id, { key, hash: Buffer.from(t.sha256, 'hex') });
    }
    this.state = s;
    this.tokenIndex = index;
  }
}

function parseDirectoryFile(text: string): DirectoryFile {
  const raw = JSON.parse(text) as Partial<DirectoryFile>;
  if (raw === null || typeof raw !== 'object' || raw.version !== kDirectoryVersion) {
    throw UnsupportedFormat(`control/directory.json has version ${JSON.stringify((raw as { version?: unknown })?.version)}, expected ${kDirectoryVersion}`);
  }
  const file = emptyFile();
  for (const [name, t] of Object.entries(raw.tenants ?? {})) {
    if (!isTenantName(name)) continue;
    file.tenants[name] = { created: Number(t.created) || 0 };
    if (typeof t.retentionSeconds === 'number') file.tenants[name]!.retentionSeconds = t.retentionSeconds;
  }
  for (const [key, u] of Object.entries(raw.users ?? {})) {
    if (!isTenantName(u.tenant) || !isUserName(u.user) || key !== userKey(u.tenant, u.user)) continue;
    file.users[key] = {
      tenant: u.tenant,
      user: u.user,
      roles: (u.roles ?? []).filter(isRole),
      tokens: (u.tokens ?? []).filter((t) => /^[0-9a-f]{16}$/.test(t.id) && /^[0-9a-f]{64}$/.test(t.sha256)),
    };
  }
  for (const g of raw.grants ?? []) {
    if (!isTenantName(g.grantor) || !isTenantName(g.grantee) || g.grantor === g.grantee) continue;
    file.grants.push({ grantor: g.grantor, grantee: g.grantee, expires: typeof g.expires === 'number' ? g.expires : null, created: Number(g.created) || 0 });
  }
  return file;
}
