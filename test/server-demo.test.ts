/**
 * `platesearch demo` (what `npm start` runs; build first): on an empty data dir it generates the demo,
 * prints one `demo token TENANT ROLE TOKEN` line per token and then `listening on …`; the tokens work;
 * on the same data dir again it reuses the data and prints the same tokens.
 */
import { kRoles } from '../src/model/tenant.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { call, kCliMain, makeDataDir } from './helpers/server.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface DemoRun {
  tokens: Array<{ tenant: string; role: string; token: string }>;
  url: string;
  stop(): Promise<number | string>;
}

function runDemo(dataDir: string): Promise<DemoRun> {
  const proc = spawn(process.execPath, [kCliMain, 'demo', '--data-dir', dataDir, '--reads', '3000', '--threads', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  return new Promise((resolve, reject) => {
    const tokens: DemoRun['tokens'] = [];
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`demo did not start; stderr:\n${stderr}`));
    }, 60_000);
    void exited.then((code) => reject(new Error(`demo exited ${code}; stderr:\n${stderr}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const t = /^demo token (\S+) (\S+) (\S+)$/.exec(line);
      if (t) tokens.push({ tenant: t[1]!, role: t[2]!, token: t[3]! });
      const l = /^listening on (http:\/\/\S+)$/.exec(line);
      if (l) {
        clearTimeout(timer);
        resolve({ tokens, url: l[1]!, stop: () => (proc.kill('SIGTERM'), exited) });
      } else if (!t) {
        reject(new Error(`unexpected stdout line: ${line}`));
      }
    });
  });
}

describe('platesearch demo', () => {
  it('generates on first run, prints tokens then listening; reuses the data and tokens on the next', async () => {
    const dataDir = await makeDataDir();
    dirs.push(dataDir);
    const first = await runDemo(dataDir);
    expect(first.tokens).toHaveLength(3 * kRoles.length); // one user per role (supervisor since v1.1)
    expect(new Set(first.tokens.map((t) => t.tenant)).size).toBe(3);
    expect(new Set(first.tokens.map((t) => t.role))).toEqual(new Set(kRoles));
    const inv = first.tokens.find((t) => t.role === 'investigator')!;
    const res = await call(first.url, 'POST', '/v1/search', { token: inv.token, json: { purpose: 'demo', case: 'D-1', limit: 1 } });
    expect(res.status).toBe(200);
    expect(res.json.total).toBeGreaterThan(0);
    expect(await first.stop()).toBe(0);

    const second = await runDemo(dataDir);
    expect(second.tokens).toEqual(first.tokens);
    const again = await call(second.url, 'POST', '/v1/search', { token: inv.token, json: { purpose: 'demo', case: 'D-1', limit: 1 } });
    expect(again.json.total).toBe(res.json.total);
    expect(await second.stop()).toBe(0);
  });

  it('a mistyped flag is a usage error (exit 2, the usage on stderr), not a stack trace, and writes nothing', async () => {
    const dataDir = await makeDataDir();
    const proc = spawn(process.execPath, [kCliMain, 'demo', '--data-dir', dataDir, '--port', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("platesearch demo: Unknown option '--port'");
    expect(stderr).toContain('usage: platesearch demo');
    expect(stderr).not.toMatch(/TypeError|\n\s+at /);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${dataDir}/tenants`)).toBe(false);
  });
});
