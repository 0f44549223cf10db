/** The shape every `cli/<command>.ts` exports: its help text and a runner that returns the exit code. */
export type Env = Record<string, string | undefined>;

export type Command = {
  /** The whole `--help` text, with at least one example. */
  usage: string;
  /** Parses `argv` (the arguments after the command name) and runs; throws `CliError`s for one-line failures. */
  run(argv: string[], env: Env): Promise<number>;
};
