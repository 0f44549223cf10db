/**
 * The `algolib` CLI: picks the command, loads its module on demand (so `validate` never pays for the SDKs or the
 * local cloud), runs it, and turns whatever it throws into one line and the CLI table's exit code.
 */
import packageJson from '../package.json';
import type { Command } from './command.ts';
import { CliError, debugTextOf, messageOf, UsageError } from './errors.ts';
import { fitText, widthOf } from './fit.ts';
import { hint, invokedAs, setInvocation } from './invocation.ts';

type Entry = { summary: string; load(): Promise<Command> };

const COMMANDS: Record<string, Entry> = {
  init: {
    summary: 'write a starting manifest beside a package (name and version from its file name)',
    load: async () => (await import('./init.ts')).init,
  },
  validate: {
    summary: 'check a manifest offline (and against its package file)',
    load: async () => (await import('./validate.ts')).validate,
  },
  publish: {
    summary: 'upload a package and its manifest; --wait for the registration',
    load: async () => (await import('./publish.ts')).publish,
  },
  status: {
    summary: 'print the status of a package (key, oss:// URL, file, or name@version)',
    load: async () => (await import('./status.ts')).status,
  },
  list: {
    summary: 'list the registered libraries: version, AlgoLibId, state of the latest upload',
    load: async () => (await import('./list.ts')).list,
  },
  replay: {
    summary: 're-run the registration of a pair already in the bucket',
    load: async () => (await import('./replay.ts')).replay,
  },
  console: {
    summary: 'serve the registry as a web page on 127.0.0.1 (--local: the local cloud)',
    load: async () => (await import('./console.ts')).consoleCommand,
  },
  dev: {
    summary: 'run the local cloud (and its console) until Ctrl-C',
    load: async () => (await import('./dev.ts')).dev,
  },
  deploy: {
    summary: 'check, plan and apply template.yml on Function Compute (--local: the local cloud)',
    load: async () => (await import('./deploy.ts')).deploy,
  },
  demo: {
    summary: 'publish the example package on an in-process local cloud (npm start)',
    load: async () => (await import('./demo.ts')).demo,
  },
  completion: {
    summary: 'print the shell completion script (bash or zsh)',
    load: async () => (await import('./completion.ts')).completion,
  },
};

const NAME_WIDTH = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;

const USAGE = `Usage: algolib <command> [options]

Publishes CityVisual algorithm libraries: a package (.tar.gz) and its manifest go to OSS, a Function Compute
function registers the library and writes a status object.

Commands:
${Object.entries(COMMANDS)
  .map(([name, entry]) => `  ${name.padEnd(NAME_WIDTH)}${entry.summary}`)
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
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['validate', 'face-1.2.0.manifest.json']);
 * ```
 */
export const main = async (argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> => {
  setInvocation(invokedAs(env, process.argv[1]));
  const [name, ...rest] = argv;
  const flags = flagsOf(rest);
  const debug = flags.includes('--debug');
  try {
    if (name === undefined || HELP_FLAGS.has(name) || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const entry = topic === undefined ? undefined : COMMANDS[topic];
      // Without a command the help is a usage error's explanation: stderr, exit 2.
      const stream = name === undefined ? process.stderr : process.stdout;
      await write(stream, helpText(entry ? (await entry.load()).usage : USAGE, stream));
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      await write(process.stdout, packageJson.version);
      return 0;
    }
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry)
      throw new UsageError(
        `Unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(COMMANDS).join(', ')}`,
      );
    const command = await entry.load();
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
dropOutputOnClosedPipe(process.stdout);
dropOutputOnClosedPipe(process.stderr);

// Exit explicitly: SDK keep-alive sockets and emulator timers must not hold a finished command open.
main(process.argv.slice(2)).then(
  async (code) => {
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
