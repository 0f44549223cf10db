/**
 * The `algolib` CLI's dispatch: picks the command, loads it with the loader its entry gives (cli/index.ts: each
 * command's module on demand; cli/validate-main.ts: validate, bundled in), runs it, and turns whatever it throws into
 * one line and the CLI table's exit code.
 */
import packageJson from '../package.json';
import type { Command } from './command.ts';
import { CliError, debugTextOf, messageOf, UsageError } from './errors.ts';
import { fitText, widthOf } from './fit.ts';
import { hint, invokedAs, setInvocation } from './invocation.ts';

/** Each command and its line in the usage text. */
const SUMMARIES = {
  init: 'write a starting manifest beside a package (name and version from its file name)',
  validate: 'check a manifest offline (and against its package file)',
  publish: 'upload a package and its manifest; --wait for the registration',
  status: 'print the status of a package (key, oss:// URL, file, or name@version)',
  list: 'list the registered libraries: version, AlgoLibId, state of the latest upload',
  replay: 're-run the registration of a pair already in the bucket',
  console: 'serve the registry as a web page on 127.0.0.1 (--local: the local cloud)',
  dev: 'run the local cloud (and its console) until Ctrl-C',
  deploy: 'check, plan and apply template.yml on Function Compute (--local: the local cloud)',
  demo: 'publish the example package on an in-process local cloud (npm start)',
  completion: 'print the shell completion script (bash or zsh)',
} as const;

export type CommandName = keyof typeof SUMMARIES;

/** Loads a command's module (what it imports is loaded then, not at start). */
export type LoadCommand = (name: CommandName) => Promise<Command>;

const isCommandName = (name: string): name is CommandName => Object.hasOwn(SUMMARIES, name);

const NAME_WIDTH = Math.max(...Object.keys(SUMMARIES).map((name) => name.length)) + 2;

const USAGE = `Usage: algolib <command> [options]

Publishes CityVisual algorithm libraries: a package (.tar.gz) and its manifest go to OSS, a Function Compute
function registers the library and writes a status object.

Commands:
${Object.entries(SUMMARIES)
  .map(([name, summary]) => `  ${name.padEnd(NAME_WIDTH)}${summary}`)
  .join('\n')}

Run \`algolib <command> --help\` for a command's options. Everywhere: --debug prints stack traces.

\`npm start\` runs the demo: a local cloud inside the command, gone when it ends. \`algolib dev\` runs a local cloud
that keeps running; publish to it with --local from another terminal, from any folder of the project.

Examples:
  npm start
  algolib dev
  algolib publish examples/face-detector-1.0.0.tar.gz --local --wait
  algolib validate examples/face-detector-1.0.0.manifest.json --package examples/face-detector-1.0.0.tar.gz
  ALIBABA_CLOUD_ACCESS_KEY_ID=… ALIBABA_CLOUD_ACCESS_KEY_SECRET=… algolib publish dist/face-1.2.0.tar.gz --bucket my-algolibs --wait`;

/**
 * A help text as the user sees it, wrapped to the terminal; under npx (a clone, where `algolib` is not on PATH)
 * its commands read `npx algolib …`.
 */
const helpText = (text: string, stream: NodeJS.WriteStream): string =>
  fitText(
    hint('') === 'npx algolib'
      ? // "algolib <word>" after a space, a backquote or "Usage: " is the command.
        text.replace(/(^|`|\s)algolib (?=[a-z<])/gm, (_match, before: string) => `${before}npx algolib `)
      : text,
    widthOf(stream),
  );

const HELP_FLAGS = new Set(['--help', '-h']);

/** Everything before a `--`: flags after it are positionals. */
const flagsOf = (argv: string[]): string[] => {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
};

const write = (stream: NodeJS.WriteStream, text: string) =>
  new Promise<void>((resolve) => stream.write(`${text}\n`, () => resolve()));

/** Resolves once what was written to `stream` has been handed to the OS. */
const flush = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));

/** Prints `error` as one line (the stack only with --debug) and returns its exit code. */
const report = async (error: unknown, debug: boolean): Promise<number> => {
  const known = error instanceof CliError;
  const seeHelp =
    error instanceof UsageError ? ` (see \`${hint(`${error.command ? `${error.command} ` : ''}--help`)}\`)` : '';
  const more = !known && !debug ? ' (run again with --debug for details)' : '';
  await write(process.stderr, `error: ${messageOf(error)}${seeHelp}${more}`);
  if (debug) await write(process.stderr, debugTextOf(error));
  return known ? error.exitCode : 1;
};

/**
 * Runs the CLI on `argv` (without `node` and the script), loading commands with `load`, and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['validate', 'face-1.2.0.manifest.json'], async () => validate);
 * ```
 */
export const main = async (
  argv: string[],
  load: LoadCommand,
  env: Record<string, string | undefined> = process.env,
): Promise<number> => {
  setInvocation(invokedAs(env, process.argv[1]));
  const [name, ...rest] = argv;
  const flags = flagsOf(rest);
  const debug = flags.includes('--debug');
  try {
    if (name === undefined || HELP_FLAGS.has(name) || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const command = topic !== undefined && isCommandName(topic) ? await load(topic) : undefined;
      // Without a command the help is a usage error's explanation: stderr, exit 2.
      const stream = name === undefined ? process.stderr : process.stdout;
      await write(stream, helpText(command ? command.usage : USAGE, stream));
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      await write(process.stdout, packageJson.version);
      return 0;
    }
    if (!isCommandName(name))
      throw new UsageError(
        `Unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(SUMMARIES).join(', ')}`,
      );
    const command = await load(name);
    if (flags.some((flag) => HELP_FLAGS.has(flag))) {
      await write(process.stdout, helpText(command.usage, process.stdout));
      return 0;
    }
    return await command.run(rest, env);
  } catch (error) {
    return report(error, debug);
  }
};

/**
 * A reader that stops early (`algolib status … | head -1`) closes the pipe: normal in a shell, so the rest of the
 * output is dropped quietly and the command still ends with its own exit code.
 */
const dropOutputOnClosedPipe = (stream: NodeJS.WriteStream) => {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    // After EPIPE the stream is destroyed, and later writes fail too: nothing more can be shown there.
    if (!closed) throw error;
  });
};

/**
 * Runs the CLI on the process's arguments and exits with its code. Exits explicitly: SDK keep-alive sockets and
 * emulator timers must not hold a finished command open.
 *
 * @example
 * ```ts
 * runCli(async () => validate);
 * ```
 */
export const runCli = (load: LoadCommand): void => {
  dropOutputOnClosedPipe(process.stdout);
  dropOutputOnClosedPipe(process.stderr);
  main(process.argv.slice(2), load).then(
    async (code) => {
      await Promise.all([flush(process.stdout), flush(process.stderr)]);
      process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`error: ${messageOf(error)}\n`);
      process.exit(1);
    },
  );
};
