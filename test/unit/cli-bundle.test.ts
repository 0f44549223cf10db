/**
 * What `algolib validate` loads at every start, read from esbuild's metafile of the CLI's own builds
 * (scripts/cli-bundle.mjs): release jobs and pre-commit hooks run it many times, so it must not load what only other
 * commands use (docs/bench.md §1b).
 */
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliModulesBuild, cliValidateBuild } from '../../scripts/cli-bundle.mjs';

// Not written: the metafile is all these tests read. The folder only names the outputs.
const OUT = 'dist/cli-bundle-test';

const metafileOf = async (options: ReturnType<typeof cliModulesBuild>): Promise<Metafile> => {
  const result = await build({ ...options, write: false, metafile: true, logLevel: 'silent' });
  return result.metafile;
};

/** The inputs that put code into `outputs`, by path (`zod-classic:` prefixes classic zod's own copy of the core). */
const inputsOf = (metafile: Metafile, outputs: Iterable<string>): string[] => {
  const inputs = new Set<string>();
  for (const output of outputs) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[output]?.inputs ?? {})) {
      if (bytesInOutput > 0) inputs.add(input);
    }
  }
  return [...inputs].sort();
};

/** The chunks a process loads once `entry`'s chunk is imported: it and everything it imports statically. */
const staticGraphOf = (metafile: Metafile, entry: string): string[] => {
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const imported of metafile.outputs[output]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return [...seen];
};

/** `node_modules/@scope/name/…` → `@scope/name`, `node_modules/name/…` → `name`. */
const packageOf = (input: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];

/** Other commands' modules and the folders only they use (the SDKs' adapters, the local cloud, the console). */
const NOT_FOR_VALIDATE =
  /^(local|platform|deploy|console)\/|^cli\/(init|publish|status|list|replay|console|dev|deploy|demo|completion)\.ts$/;

describe('algolib validate, as ES modules (node dist/cli/index.mjs validate)', () => {
  let metafile: Metafile;
  let loaded: string[];

  beforeAll(async () => {
    metafile = await metafileOf(cliModulesBuild(OUT));
    // index.mjs imports the command's chunk (the one holding cli/validate.ts) when it runs validate.
    const chunk = Object.keys(metafile.outputs).find((output) =>
      Object.keys(metafile.outputs[output]?.inputs ?? {}).includes('cli/validate.ts'),
    ) as string;
    loaded = inputsOf(metafile, [...staticGraphOf(metafile, `${OUT}/index.mjs`), ...staticGraphOf(metafile, chunk)]);
  });

  it('loads zod/mini for the manifest, and none of what classic zod (the local cloud) adds to the core', () => {
    expect(loaded).toContain('node_modules/zod/v4/mini/schemas.js');
    // Classic's `z` namespace uses the whole core: `z.compile` and JSON Schema output among it. With one core for
    // both, those sat in the chunk validate loads (218 KiB of zod instead of 45).
    expect(loaded.filter((input) => input.includes('zod/v4/classic/') || input.startsWith('zod-classic:'))).toEqual([]);
    expect(loaded).not.toContain('node_modules/zod/v4/core/compile.js');
    expect(loaded).not.toContain('node_modules/zod/v4/core/to-json-schema.js');
  });

  it("loads no other command's module and nothing of the SDKs or the local cloud", () => {
    expect(loaded.filter((input) => NOT_FOR_VALIDATE.test(input))).toEqual([]);
    expect(new Set(loaded.map(packageOf).filter((name) => name !== undefined))).toEqual(new Set(['zod', 'picocolors']));
  });
});

describe('algolib validate, as its own CommonJS file (bin/algolib.js validate)', () => {
  let inputs: string[];

  beforeAll(async () => {
    const metafile = await metafileOf(cliValidateBuild(OUT));
    inputs = inputsOf(metafile, Object.keys(metafile.outputs));
  });

  it('holds the validate command and the dispatch of cli/main.ts', () => {
    expect(inputs).toEqual(expect.arrayContaining(['cli/validate-main.ts', 'cli/main.ts', 'cli/validate.ts']));
  });

  it("holds no other command's module, nothing of the SDKs or the local cloud, and zod's core only as mini uses it", () => {
    expect(inputs.filter((input) => NOT_FOR_VALIDATE.test(input))).toEqual([]);
    expect(new Set(inputs.map(packageOf).filter((name) => name !== undefined))).toEqual(new Set(['zod', 'picocolors']));
    expect(inputs.filter((input) => input.includes('zod/v4/classic/'))).toEqual([]);
    expect(inputs).not.toContain('node_modules/zod/v4/core/compile.js');
  });
});
