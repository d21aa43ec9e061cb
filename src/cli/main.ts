#!/usr/bin/env node
/**
 * `platesearch`: the command line of API.md. Each command lives in src/cli/commands/<name>.ts and is
 * loaded only when called, so `gen` does not pay for the server's imports.
 */
import { capMallocArenas, fixMallocThresholds } from '../core/malloc-arenas.js';
import { isPlatesearchError } from '../errors.js';
import type { Command } from './command.js';

const kCommands: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./commands/serve.js'),
  demo: () => import('./commands/demo.js'),
  token: () => import('./commands/token.js'),
  ingest: () => import('./commands/ingest.js'),
  gen: () => import('./commands/gen.js'),
  audit: () => import('./commands/audit.js'),
  export: () => import('./commands/export.js'),
  tenant: () => import('./commands/tenant.js'),
  keys: () => import('./commands/keys.js'),
};

// the commands that open an engine, and with it its threads: their malloc arenas are capped first
const kEngineCommands = new Set(['serve', 'demo', 'ingest', 'export']);
// the long-lived servers: glibc's thresholds fixed, so what their worker threads free at a heap's top goes back
const kServerCommands = new Set(['serve', 'demo']);

async function loadAll(): Promise<Array<[string, Command]>> {
  const out: Array<[string, Command]> = [];
  for (const [name, load] of Object.entries(kCommands)) {
    try {
      out.push([name, (await load()).command]);
    } catch {
      // a command whose module is not built yet is left out of the overview
    }
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['usage: platesearch <command> [options]', '', 'commands:'];
    for (const [n, c] of await loadAll()) lines.push(`  ${n.padEnd(8)} ${c.summary}`);
    lines.push('', 'Run `platesearch <command> --help` for a command\'s options.');
    process.stdout.write(lines.join('\n') + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = kCommands[name];
  if (!load) {
    process.stderr.write(`platesearch: unknown command "${name}" (see platesearch --help)\n`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  if (kEngineCommands.has(name)) capMallocArenas();
  if (kServerCommands.has(name)) fixMallocThresholds();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isPlatesearchError(err)) process.stderr.write(`platesearch: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`platesearch: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
