import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The folder rules of CONTRIBUTING.md "Layout", read from the source itself: every relative import of every .ts file.

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Which top-level folders each folder may import (besides itself). The function's code (`shared/`, `functions/`)
 * stands alone; `platform/` models the cloud for the code that plays or drives it; tools and the local cloud build on
 * those; only `test/` may import anything. A new top-level folder needs its row here.
 */
const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  functions: ['shared'],
  samples: [],
  platform: ['shared'],
  deploy: ['shared', 'platform'],
  local: ['shared', 'platform', 'deploy'],
  console: ['shared', 'local'],
  cli: ['shared', 'platform', 'deploy', 'local', 'console', 'package.json'],
  scripts: ['shared'],
  bench: ['shared', 'platform', 'samples', 'local', 'scripts'],
  proving: ['shared', 'platform', 'samples', 'local'],
  test: ['*'],
};

/** The function's entry: everything in shared/ is reachable from it (shared/ is what the bundle holds). */
const FUNCTION_ENTRY = 'functions/register/index.ts';

const SOURCE_FOLDERS = Object.keys(ALLOWED);
const IGNORED = new Set(['node_modules', 'dist', '.git', '.algolib', 'coverage']);

type Import = { from: string; specifier: string; line: number };

const sourceFiles = (): string[] => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (IGNORED.has(entry)) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.m?ts$/.test(entry)) files.push(relative(ROOT, path));
    }
  };
  for (const folder of readdirSync(ROOT)) {
    if (!IGNORED.has(folder) && statSync(join(ROOT, folder)).isDirectory()) walk(join(ROOT, folder));
  }
  return files.sort();
};

// Static imports and re-exports start a line (so TSDoc examples, whose lines start with ` * `, are not read);
// dynamic imports and requires may sit anywhere.
const IMPORT_PATTERNS = [
  /^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
];

const importsOf = (file: string): Import[] => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return IMPORT_PATTERNS.flatMap((pattern) =>
    [...text.matchAll(pattern)].map((match) => ({
      from: file,
      specifier: match[1] ?? '',
      line: text.slice(0, match.index).split('\n').length,
    })),
  ).filter((found) => found.specifier.startsWith('.'));
};

const targetOf = (found: Import) => relative(ROOT, resolve(ROOT, dirname(found.from), found.specifier));
const folderOf = (path: string) => path.split('/')[0] ?? path;
const where = (found: Import) => `${found.from}:${found.line} imports '${found.specifier}'`;

const FILES = sourceFiles();
const IMPORTS = FILES.flatMap(importsOf);

/** Every source file `entry` reaches through relative imports (itself included). */
const reachableFrom = (entry: string): Set<string> => {
  const importsByFile = new Map<string, string[]>();
  for (const found of IMPORTS)
    importsByFile.set(found.from, [...(importsByFile.get(found.from) ?? []), targetOf(found)]);
  const reached = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (reached.has(file)) continue;
    reached.add(file);
    pending.push(...(importsByFile.get(file) ?? []));
  }
  return reached;
};

/** The folders `edges` reach in a cycle, or [] when the graph has none (depth-first, three colours). */
const cycleIn = (edges: Map<string, Set<string>>): string[] => {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] => {
    if (state.get(node) === 'done') return [];
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle.length > 0) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return [];
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle.length > 0) return cycle;
  }
  return [];
};

describe('the import graph', () => {
  it('reads the source (a sanity check of the scan itself)', () => {
    expect(FILES).toContain(FUNCTION_ENTRY);
    expect(IMPORTS.length).toBeGreaterThan(500);
  });

  it('has a rule for every top-level folder that holds TypeScript', () => {
    const unruled = [...new Set(FILES.map(folderOf))].filter((folder) => !SOURCE_FOLDERS.includes(folder));
    expect(unruled, 'add a row to ALLOWED in test/unit/import-graph.test.ts and to CONTRIBUTING.md "Layout"').toEqual(
      [],
    );
  });

  it('names the imported file with its extension, and the file exists', () => {
    const unresolved = IMPORTS.filter((found) => {
      const target = join(ROOT, targetOf(found));
      return !/\.(ts|mts|json|mjs|cjs)$/.test(found.specifier) || !existsSync(target) || !statSync(target).isFile();
    });
    expect(unresolved.map(where)).toEqual([]);
  });

  it('crosses folders only along the allowed edges', () => {
    const forbidden = IMPORTS.filter((found) => {
      const from = folderOf(found.from);
      const to = folderOf(targetOf(found));
      const allowed = ALLOWED[from] ?? [];
      return from !== to && !allowed.includes('*') && !allowed.includes(to);
    });
    expect(
      forbidden.map((found) => `${where(found)} (${folderOf(found.from)}/ → ${folderOf(targetOf(found))}/)`),
    ).toEqual([]);
  });

  it('has no cycle between top-level folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const [from, targets] of Object.entries(ALLOWED)) {
      edges.set(from, new Set(targets.filter((to) => to !== '*' && to !== from)));
    }
    expect(cycleIn(edges)).toEqual([]);
  });

  it('keeps the SDKs out of the function: nothing it loads imports ali-oss or pop-core (its transports are shared/oss-client.ts and shared/rpc-client.ts)', () => {
    const reached = reachableFrom(FUNCTION_ENTRY);
    const sdkImports = [...reached].flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)]
        .map((match) => match[1] ?? '')
        .filter((specifier) => /^(ali-oss|@alicloud\/pop-core|urllib|httpx)(\/|$)/.test(specifier))
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(reached.has('shared/oss-client.ts') && reached.has('shared/rpc-client.ts')).toBe(true);
    expect(sdkImports).toEqual([]);
  });

  it('keeps shared/ to what the function bundles: every file is reachable from its entry', () => {
    const reached = reachableFrom(FUNCTION_ENTRY);
    // Declarations (`*.d.ts`) type modules the bundle holds; nothing imports them.
    const unbundled = FILES.filter(
      (file) => folderOf(file) === 'shared' && !file.endsWith('.d.ts') && !reached.has(file),
    );
    expect(unbundled, 'code the function never loads belongs outside shared/ (platform/, local/ or the tool)').toEqual(
      [],
    );
  });

  it('uses zod/mini in the function (shared/, functions/) and classic zod in the local cloud', () => {
    const zodImports = FILES.flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^import\b[^;]*?\bfrom\s*'(zod(?:\/[\w-]+)?)'/gm)].map(
        (match) => ({ file, module: match[1] }),
      ),
    );
    const wrong = zodImports.filter(({ file, module }) => {
      const folder = folderOf(file);
      if (folder === 'shared' || folder === 'functions') return module !== 'zod/mini';
      if (folder === 'local') return module !== 'zod';
      return false;
    });
    expect(wrong).toEqual([]);
  });
});
