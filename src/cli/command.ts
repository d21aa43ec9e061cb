import type { DataKeys } from '../crypto/data-keys.js';

/** The shape every `platesearch <command>` module exports; src/cli/main.ts dispatches by name. */
export interface Command {
  /** One line for `platesearch --help`. */
  summary: string;
  /** Full `--help` text of the command. */
  usage: string;
  /**
   * Runs with the arguments after the command name; resolves to the process exit code. `context` is for
   * in-process callers only: src/cli/main.ts never passes one.
   */
  run(args: string[], context?: CommandContext): Promise<number>;
}

/**
 * What an in-process caller may put in place of the command's own way of opening the data dir's keys
 * (`--key-store`, src/cli/key-store-option.ts). Only the overhead benchmark passes one
 * (bench/plaintext-cli.ts: the same command with encryption off); no flag, environment variable or
 * key-store URI reaches it.
 */
export interface CommandContext {
  openKeys?: (command: string, dataDir: string, spec: string | undefined) => Promise<DataKeys>;
}
