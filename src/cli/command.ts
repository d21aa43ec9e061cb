/** The shape every `platesearch <command>` module exports; src/cli/main.ts dispatches by name. */
export interface Command {
  /** One line for `platesearch --help`. */
  summary: string;
  /** Full `--help` text of the command. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
