/**
 * `platesearch token create|revoke`: bearer tokens on a data dir, with or without a server running on it
 * (the directory file is locked for each change and replaced atomically; a server sees changes within 1 s).
 */
import { parseArgs } from 'node:util';
import { kRoles, type Role } from '../../model/tenant.js';
import { Directory } from '../../server/tenancy/directory.js';
import { auditedCli } from '../audited.js';
import type { Command } from '../command.js';
import { keyStoreOption, keyStoreUsage, openCommandKeys } from '../key-store-option.js';

const usage = `usage: platesearch token create --data-dir D --tenant T --user U --role R [--role R2 ...] [--key-store K]
       platesearch token revoke --data-dir D --tenant T --user U [--key-store K]

create  Creates tenant T if it is new and user U if it is new, sets U's roles to exactly the
        --role values given (the roles of all of U's tokens change with it), and issues a new
        bearer token. The token is printed once, as the last line of stdout; only its SHA-256
        is stored (D/control/directory.json).
revoke  Invalidates every token of user U of tenant T (the user and its roles stay; a later
        "token create" issues a new one). A running server refuses them within 1 s.

Roles: ${kRoles.join(', ')} (repeat --role, or separate with commas).
Names of tenants and users: 1-63 of a-z 0-9 . _ - , starting with a letter or digit.
Works while "platesearch serve" runs on D. Each create and revoke is recorded in
D/audit/_system.jsonl and in tenant T's audit log (never the token itself).
${keyStoreUsage}`;

function fail(message: string): number {
  process.stderr.write(`platesearch token: ${message}\n\n${usage}\n`);
  return 2;
}

export const command: Command = {
  summary: 'create or revoke bearer tokens (works while a server runs)',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'create' && sub !== 'revoke') return fail(sub === undefined ? 'a subcommand is required' : `unknown subcommand "${sub}"`);
    let values: { 'data-dir'?: string; 'key-store'?: string; tenant?: string; user?: string; role?: string[] };
    try {
      ({ values } = parseArgs({
        args: rest,
        options: {
          'data-dir': { type: 'string' },
          tenant: { type: 'string' },
          user: { type: 'string' },
          role: { type: 'string', multiple: true },
          ...keyStoreOption,
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      return fail((err as Error).message);
    }
    const dataDir = values['data-dir'];
    const { tenant, user } = values;
    if (!dataDir) return fail('--data-dir is required');
    if (!tenant) return fail('--tenant is required');
    if (!user) return fail('--user is required');

    // tokens and the directory hold tenant and user names, no reads: the key store is checked, and used
    // only to seal this action's audit record
    const keys = await openCommandKeys('token', dataDir, values['key-store']);
    const directory = await Directory.open(dataDir, { watch: false });
    try {
      if (sub === 'create') {
        const roles = (values.role ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
        if (roles.length === 0) return fail('at least one --role is required');
        const bad = roles.find((r) => !(kRoles as readonly string[]).includes(r));
        if (bad !== undefined) return fail(`unknown role "${bad}" (roles: ${kRoles.join(', ')})`);
        const { token, principal } = await auditedCli(
          { dataDir, keys, action: 'cli.token.create', command: 'platesearch token create', tenant, params: { tenant, user, roles } },
          () => directory.createToken(tenant, user, roles as Role[]),
        );
        process.stdout.write(`token for ${principal.tenant}/${principal.user} (roles: ${principal.roles.join(', ')}):\n${token}\n`);
        return 0;
      }
      const n = await auditedCli(
        { dataDir, keys, action: 'cli.token.revoke', command: 'platesearch token revoke', tenant, params: { tenant, user } },
        () => directory.revokeUser(tenant, user),
        (revoked) => ({ resultCount: revoked }),
      );
      process.stdout.write(`revoked ${n} token${n === 1 ? '' : 's'} of ${tenant}/${user}\n`);
      return 0;
    } finally {
      await directory.close();
      await keys.store.close();
    }
  },
};
