/**
 * openapi.yaml stays true: every route the server has is documented with its roles and audit action, and
 * nothing is documented that the server does not have. The file is served at GET /v1/openapi.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kRepoRoot, startTestServer, type TestServer } from './helpers/server.js';

interface DocumentedOperation {
  roles: string;
  action: string | undefined;
}

/** The operations of openapi.yaml's `paths:` (the file keeps a fixed indentation: 2 path, 4 method, 6 fields). */
function documentedOperations(yaml: string): Map<string, DocumentedOperation> {
  const ops = new Map<string, DocumentedOperation>();
  let inPaths = false;
  let path: string | undefined;
  let current: DocumentedOperation | undefined;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) {
      inPaths = line.startsWith('paths:');
      continue;
    }
    if (!inPaths) continue;
    let m = /^ {2}(\/\S*):\s*$/.exec(line);
    if (m) {
      path = m[1];
      current = undefined;
      continue;
    }
    m = /^ {4}(get|post|put|patch|delete):\s*$/.exec(line);
    if (m && path) {
      current = { roles: '', action: undefined };
      ops.set(`${m[1]!.toUpperCase()} ${path}`, current);
      continue;
    }
    m = /^ {6}x-roles:\s*(.+)$/.exec(line);
    if (m && current) current.roles = m[1]!.trim();
    m = /^ {6}x-audit-action:\s*(.+)$/.exec(line);
    if (m && current) current.action = m[1]!.trim();
  }
  return ops;
}

function rolesText(roles: readonly string[] | 'public'): string {
  return roles === 'public' ? 'public' : `[${[...roles].sort().join(', ')}]`;
}

function sortedRoles(text: string): string {
  if (text === 'public') return text;
  const inner = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
  return `[${inner.split(',').map((s) => s.trim()).filter(Boolean).sort().join(', ')}]`;
}

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

describe('openapi.yaml', () => {
  const yaml = readFileSync(join(kRepoRoot, 'openapi.yaml'), 'utf8');
  const documented = documentedOperations(yaml);

  it('documents every route of the server with its roles and audit action', () => {
    for (const route of ts.server.router.routes()) {
      const key = `${route.method} ${route.path}`;
      const doc = documented.get(key);
      expect(doc, `${key} is missing from openapi.yaml`).toBeDefined();
      expect(sortedRoles(doc!.roles), `${key} x-roles`).toBe(rolesText(route.roles));
      expect(doc!.action, `${key} x-audit-action`).toBe(route.action);
    }
  });

  it('documents nothing the server does not have', () => {
    const served = new Set(ts.server.router.routes().map((r) => `${r.method} ${r.path}`));
    for (const key of documented.keys()) expect(served.has(key), `${key} is documented but not served`).toBe(true);
  });

  it('is served verbatim at GET /v1/openapi.yaml, without a token', async () => {
    const res = await call(ts.url, 'GET', '/v1/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    expect(res.text).toBe(yaml);
  });
});
