/**
 * BENCHMARKS ONLY: `node dist/bench/plaintext-cli.js <ingest|serve> …` runs the production command's own
 * code with encryption off (bench/plaintext-keys.ts injected through src/cli/command.ts's CommandContext),
 * so bench/enc-overhead.ts can time the same build encrypted and not. `--key-store` is refused: there is no
 * key store. Not part of the `platesearch` command line (package.json "bin" is src/cli/main.ts).
 */
import { isPlatesearchError } from '../src/errors.js';
import type { Command } from '../src/cli/command.js';
import { openPlaintextKeys } from './plaintext-keys.js';

const kCommands: Record<string, () => Promise<{ command: Command }>> = {
  ingest: () => import('../src/cli/commands/ingest.js'),
  serve: () => import('../src/cli/commands/serve.js'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name === undefined ? undefined : kCommands[name];
  if (!load) {
    process.stderr.write(`plaintext-cli: one of ${Object.keys(kCommands).join(', ')}\n`);
    return 2;
  }
  if (rest.some((a) => a === '--key-store' || a.startsWith('--key-store='))) {
    process.stderr.write('plaintext-cli: no --key-store: encryption is off here\n');
    return 2;
  }
  const { command } = await load();
  return command.run(rest, { openKeys: (_command, dataDir) => openPlaintextKeys(dataDir) });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isPlatesearchError(err)) process.stderr.write(`plaintext-cli: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`plaintext-cli: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
