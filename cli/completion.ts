/**
 * `algolib completion bash|zsh`: prints a completion script for commands, their options and the files they take
 * (`.tar.gz` for packages, `.json` for manifests and state files). The script is static (no `algolib` process per
 * Tab, which would cost a Node start-up each time); the table below is checked against every command's `--help` by a
 * test, so a new option cannot be left out.
 */
import {
  COMMON_OPTIONS,
  expectPositionals,
  FC_OPTIONS,
  parseCommandArgs,
  TARGET_OPTIONS,
  WAIT_OPTIONS,
} from './args.ts';
import type { Command } from './command.ts';
import { UsageError } from './errors.ts';

/** What an option's value is, for completion: a file of a kind, a folder, or something only the user knows. */
type ValueKind = { files: string } | 'folder' | 'text';

export type CommandCompletion = {
  summary: string;
  /** Flags without a value. */
  flags: string[];
  /** Options that take a value, and what kind of value. */
  options: Record<string, ValueKind>;
  /** What the positional arguments are: files matching a glob, or words. */
  positionals?: { files: string } | { words: string[] };
};

type Options = Record<string, { type: 'boolean' | 'string' }>;

const JSON_FILE = { files: '*.json' };
const PACKAGE_FILE = { files: '*.tar.gz' };
/** Options whose value is a file or folder; every other string option takes free text. */
const FILE_VALUES: Record<string, ValueKind> = {
  'state-file': JSON_FILE,
  manifest: JSON_FILE,
  package: PACKAGE_FILE,
  'parameters-file': JSON_FILE,
  template: { files: '*.yml' },
  'data-dir': 'folder',
};

/** Splits one of args.ts's option sets into flags and valued options (with `--`). */
const fromOptions = (...sets: Options[]): Pick<CommandCompletion, 'flags' | 'options'> => {
  const flags: string[] = [];
  const options: Record<string, ValueKind> = {};
  for (const [name, option] of sets.flatMap((set) => Object.entries(set))) {
    if (option.type === 'boolean') flags.push(`--${name}`);
    else options[`--${name}`] = FILE_VALUES[name] ?? 'text';
  }
  return { flags: [...new Set(flags)], options };
};

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;

/** Every command, its options and arguments. Summaries are the ones of `algolib --help`. */
export const COMPLETIONS: Record<string, CommandCompletion> = {
  init: {
    summary: 'write a starting manifest beside a package',
    ...fromOptions(COMMON_OPTIONS, { force: bool }),
    positionals: PACKAGE_FILE,
  },
  validate: {
    summary: 'check a manifest offline',
    ...fromOptions(COMMON_OPTIONS, { package: str, json: bool }),
    positionals: JSON_FILE,
  },
  publish: {
    summary: 'upload a package and its manifest',
    ...fromOptions(COMMON_OPTIONS, TARGET_OPTIONS, WAIT_OPTIONS, {
      manifest: str,
      prefix: str,
      json: bool,
      'part-size': str,
      'multipart-threshold': str,
      'no-check': bool,
    }),
    positionals: PACKAGE_FILE,
  },
  status: {
    summary: 'print the status document of a published package',
    ...fromOptions(COMMON_OPTIONS, TARGET_OPTIONS, { json: bool, prefix: str }),
    positionals: PACKAGE_FILE,
  },
  list: {
    summary: 'list the registered libraries: version, AlgoLibId, state of the latest upload',
    ...fromOptions(COMMON_OPTIONS, TARGET_OPTIONS, { json: bool }),
  },
  replay: {
    summary: 're-run the registration of a pair already in the bucket',
    ...fromOptions(COMMON_OPTIONS, TARGET_OPTIONS, FC_OPTIONS, WAIT_OPTIONS, { json: bool }),
    positionals: PACKAGE_FILE,
  },
  dev: {
    summary: 'run the local cloud until Ctrl-C',
    ...fromOptions(COMMON_OPTIONS, {
      'data-dir': str,
      'state-file': str,
      'webhook-url': str,
      'webhook-secret': str,
      quiet: bool,
      filter: str,
      chat: str,
    }),
  },
  deploy: {
    summary: 'check, plan and apply template.yml on Function Compute',
    ...fromOptions(COMMON_OPTIONS, {
      check: bool,
      plan: bool,
      yes: bool,
      json: bool,
      'no-build': bool,
      template: str,
      parameter: str,
      'parameters-file': str,
      local: bool,
      'state-file': str,
      region: str,
      'account-id': str,
      endpoint: str,
    }),
  },
  demo: { summary: 'publish the example package on an in-process local cloud', ...fromOptions(COMMON_OPTIONS) },
  completion: {
    summary: 'print the shell completion script',
    ...fromOptions(COMMON_OPTIONS),
    positionals: { words: ['bash', 'zsh'] },
  },
};

const names = Object.keys(COMPLETIONS);
const shellWords = (words: string[]) => words.join(' ');

/** The bash `case` arm of one command: option values first, then options, then positionals. */
const bashArm = (name: string, spec: CommandCompletion): string => {
  const byKind = new Map<string, string[]>();
  for (const [option, kind] of Object.entries(spec.options)) {
    const action = kind === 'text' ? ':' : kind === 'folder' ? '_algolib_folders' : `_algolib_files '${kind.files}'`;
    byKind.set(action, [...(byKind.get(action) ?? []), option]);
  }
  const values = [...byKind].map(([action, options]) => `        ${options.join('|')}) ${action}; return 0 ;;`);
  const positional = !spec.positionals
    ? ':'
    : 'files' in spec.positionals
      ? `_algolib_files '${spec.positionals.files}'`
      : `COMPREPLY=($(compgen -W "${shellWords(spec.positionals.words)}" -- "$cur"))`;
  return [
    `    ${name})`,
    ...(values.length > 0 ? ['      case "$prev" in', ...values, '      esac'] : []),
    `      if [[ "$cur" == -* ]]; then`,
    `        COMPREPLY=($(compgen -W "${shellWords([...spec.flags, ...Object.keys(spec.options)])}" -- "$cur"))`,
    '      else',
    `        ${positional}`,
    '      fi ;;',
  ].join('\n');
};

/** The bash script: `source <(algolib completion bash)`. */
export const bashScript =
  (): string => `# algolib completion for bash. Load it in ~/.bashrc with:  source <(algolib completion bash)
_algolib_files() {
  # Files matching the glob $1, and folders to walk into.
  local IFS=$'\\n'
  COMPREPLY=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
}
_algolib_folders() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -d -- "$cur"))
}
_algolib() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${shellWords([...names, 'help', '--help', '--version'])}" -- "$cur"))
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
    help)
      [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W "${shellWords(names)}" -- "$cur")) ;;
${Object.entries(COMPLETIONS)
  .map(([name, spec]) => bashArm(name, spec))
  .join('\n')}
  esac
  return 0
}
complete -o filenames -F _algolib algolib
`;

/** `'text'` quoted for zsh, with `:` escaped as `_describe` needs. */
const zshQuote = (text: string) => `'${text.replaceAll("'", "'\\''").replaceAll(':', '\\:')}'`;

const zshArm = (name: string, spec: CommandCompletion): string => {
  const values = Object.entries(spec.options).map(([option, kind]) => {
    const action =
      kind === 'text'
        ? `_message 'a value for ${option}'`
        : kind === 'folder'
          ? '_files -/'
          : `_files -g '${kind.files}'`;
    return `        ${option}) ${action}; return ;;`;
  });
  const positional = !spec.positionals
    ? ':'
    : 'files' in spec.positionals
      ? `_files -g '${spec.positionals.files}'`
      : `compadd -- ${shellWords(spec.positionals.words)}`;
  return [
    `    ${name})`,
    ...(values.length > 0 ? ['      case $prev in', ...values, '      esac'] : []),
    `      if [[ $cur == -* ]]; then`,
    `        compadd -- ${shellWords([...spec.flags, ...Object.keys(spec.options)])}`,
    '      else',
    `        ${positional}`,
    '      fi ;;',
  ].join('\n');
};

/** The zsh script: `source <(algolib completion zsh)` after `compinit`, or saved as `_algolib` in `$fpath`. */
export const zshScript = (): string => `#compdef algolib
# algolib completion for zsh. Load it in ~/.zshrc (after compinit) with:  source <(algolib completion zsh)
_algolib() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local -a commands
  commands=(
${Object.entries(COMPLETIONS)
  .map(([name, spec]) => `    ${zshQuote(`${name}:${spec.summary}`)}`)
  .join('\n')}
  )
  if (( CURRENT == 2 )); then
    if [[ $cur == -* ]]; then compadd -- --help --version; else _describe -t commands 'algolib command' commands; fi
    return
  fi
  case \${words[2]} in
    help)
      (( CURRENT == 3 )) && _describe -t commands 'algolib command' commands ;;
${Object.entries(COMPLETIONS)
  .map(([name, spec]) => zshArm(name, spec))
  .join('\n')}
  esac
}
if (( $+functions[compdef] )); then compdef _algolib algolib; else _algolib "$@"; fi
`;

const SCRIPTS: Record<string, () => string> = { bash: bashScript, zsh: zshScript };

const usage = `Usage: algolib completion bash|zsh

Prints a script that completes algolib's commands, their options, and the files they take (.tar.gz packages,
.json manifests and state files) in your shell.

Options:
  --debug     Print stack traces of unexpected errors.
  -h, --help  Show this help.

Exit codes: 0 printed, 2 usage.

Examples:
  source <(algolib completion bash)          (add this line to ~/.bashrc)
  source <(algolib completion zsh)           (add this line to ~/.zshrc, after compinit)
  algolib completion zsh > "\${fpath[1]}/_algolib"`;

export const completion: Command = {
  usage,
  run: async (argv) => {
    const { positionals } = parseCommandArgs('completion', argv, COMMON_OPTIONS);
    const [shell] = expectPositionals('completion', positionals, ['bash|zsh']) as [string];
    const script = Object.hasOwn(SCRIPTS, shell) ? SCRIPTS[shell] : undefined;
    if (!script) throw new UsageError(`Expected the shell to be bash or zsh, got ${shell}`, 'completion');
    await new Promise<void>((resolve) => process.stdout.write(script(), () => resolve()));
    return 0;
  },
};
