import { describe, expect, it } from 'vitest';
import { COMPLETIONS } from '../../cli/completion.ts';

const usageOf = async (command: string): Promise<string> => {
  const modules: Record<string, () => Promise<{ usage: string }>> = {
    init: async () => (await import('../../cli/init.ts')).init,
    validate: async () => (await import('../../cli/validate.ts')).validate,
    publish: async () => (await import('../../cli/publish.ts')).publish,
    status: async () => (await import('../../cli/status.ts')).status,
    list: async () => (await import('../../cli/list.ts')).list,
    replay: async () => (await import('../../cli/replay.ts')).replay,
    dev: async () => (await import('../../cli/dev.ts')).dev,
    deploy: async () => (await import('../../cli/deploy.ts')).deploy,
    demo: async () => (await import('../../cli/demo.ts')).demo,
    completion: async () => (await import('../../cli/completion.ts')).completion,
  };
  const load = modules[command];
  if (!load) throw new Error(`Expected a loader for ${command}`);
  return (await load()).usage;
};

describe('COMPLETIONS', () => {
  it.each(Object.keys(COMPLETIONS))('completes exactly the options `algolib %s --help` lists', async (command) => {
    // Arrange
    const spec = COMPLETIONS[command];
    const usage = await usageOf(command);

    // Act: what follows `algolib <another command>` on a line (an example, a reference) is that command's, and
    // options quoted in prose (`--local` commands) are other commands' too.
    const own = usage.replace(new RegExp(`algolib (?!${command}\\b)[a-z]+[^\\n]*`, 'g'), '').replace(/`[^`\n]*`/g, '');
    const documented = new Set(own.match(/--[a-z][a-z-]*[a-z]/g));
    const completed = new Set([...(spec?.flags ?? []), ...Object.keys(spec?.options ?? {})]);

    // Assert
    expect([...completed].sort()).toEqual([...documented].sort());
  });
});
