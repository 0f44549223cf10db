/**
 * The `algolib` CLI as ES modules (dist/cli/index.mjs): each command's module is loaded on demand, so `--version`
 * loads none and `validate` never pays for the SDKs or the local cloud. (bin/algolib.js runs `validate` from its own
 * CommonJS file instead: cli/validate-main.ts.)
 */
import type { Command } from './command.ts';
import { type CommandName, runCli } from './main.ts';

const LOADERS: Record<CommandName, () => Promise<Command>> = {
  init: async () => (await import('./init.ts')).init,
  validate: async () => (await import('./validate.ts')).validate,
  publish: async () => (await import('./publish.ts')).publish,
  status: async () => (await import('./status.ts')).status,
  list: async () => (await import('./list.ts')).list,
  replay: async () => (await import('./replay.ts')).replay,
  console: async () => (await import('./console.ts')).consoleCommand,
  dev: async () => (await import('./dev.ts')).dev,
  deploy: async () => (await import('./deploy.ts')).deploy,
  demo: async () => (await import('./demo.ts')).demo,
  completion: async () => (await import('./completion.ts')).completion,
};

runCli((name) => LOADERS[name]());
