/**
 * The bundles the cold-start section loads side by side: the shipped one (dist/register), the one before this work
 * (the baseline commit's source built with that commit's options), the same source with the SDKs as its transports,
 * an experiment that is measured but not shipped (a V8 code cache), and single components (to say where the time goes).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import {
  commonOptions,
  iconvSidecar,
  platformShim,
  registerBuilds,
  zodEnglishOnly,
} from '../scripts/register-bundle.mjs';

export type Variant = { name: string; label: string; module: string; note?: string };

export type Variants = {
  after: Variant;
  before: Variant | undefined;
  experiments: Variant[];
  components: Variant[];
  /** Why there is no `before` (no git, unknown ref). */
  beforeMissing?: string;
};

/**
 * The function's transports resolved to bench/sdk-transports.ts (ali-oss and pop-core behind the same ports): the
 * function as it shipped before the signed-request clients, built from today's source.
 */
const sdkTransports = (root: string): Plugin => ({
  name: 'sdk-transports',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/transports\.ts$/ }, (args) =>
      /functions[\\/]register[\\/]deps\.ts$/.test(args.importer)
        ? { path: join(root, 'bench/sdk-transports.ts') }
        : undefined,
    );
  },
});

/** A loader that compiles the bundle with a V8 code cache made at build time (what Node 22's compile cache does). */
const CODE_CACHE_LOADER = `'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const file = join(__dirname, 'bundle.js');
let cachedData;
try { cachedData = readFileSync(join(__dirname, 'bundle.cache')); } catch {}
const script = new vm.Script(require('node:module').wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
script.runInThisContext()(exports, require, module, file, __dirname);
`;

/** Runs the bundle's load and initialize once, then saves V8's code cache (functions compiled so far included). */
const CODE_CACHE_MAKER = `'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const dir = process.argv[1];
const file = join(dir, 'bundle.js');
const script = new vm.Script(require('node:module').wrap(readFileSync(file, 'utf8')), { filename: file });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, file, dir);
mod.exports.initialize({ credentials: { accessKeyId: 'STS.cache', accessKeySecret: 'cache', securityToken: 'cache' }, function: { timeout: 60 }, requestId: 'cache' });
writeFileSync(join(dir, 'bundle.cache'), script.createCachedData());
`;

const buildAll = async (options: ReturnType<typeof registerBuilds>, root: string) => {
  await Promise.all(options.map((option) => build({ ...option, absWorkingDir: root, logLevel: 'error' })));
};

/** The baseline commit's functions/ and shared/, extracted with `git archive` (read-only), or why not. */
const extractBaseline = (root: string, ref: string, into: string): string | undefined => {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const archive = spawnSync(
    'sh',
    ['-c', `git -C "${root}" archive --format=tar "${ref}" functions shared | tar -x -C "${into}"`],
    {
      encoding: 'utf8',
    },
  );
  if (archive.status !== 0 || !existsSync(join(into, 'functions/register/index.ts'))) {
    return `git archive ${ref} failed: ${(archive.stderr || '').trim() || `exit ${archive.status}`}`;
  }
  return undefined;
};

const COMPONENT_SOURCES: Record<string, (root: string) => string> = {
  'ali-oss': () =>
    "import OSS from 'ali-oss';\nexport const initialize = () => { (globalThis as { keep?: unknown }).keep = OSS; };\n",
  'pop-core': () =>
    "import RPCClient from '@alicloud/pop-core';\nexport const initialize = () => { (globalThis as { keep?: unknown }).keep = RPCClient; };\n",
  'the OSS and RPC clients': (root) =>
    `import { createOssClient } from '${root}/shared/oss-client.ts';
import { createRpcClient } from '${root}/shared/rpc-client.ts';
export const initialize = () => {
  const credentials = () => ({ accessKeyId: 'a', accessKeySecret: 'b' });
  (globalThis as { keep?: unknown }).keep = [
    createOssClient({ endpoint: 'http://127.0.0.1:9', region: 'oss-cn-shanghai', timeoutMs: 1000, credentials }),
    createRpcClient({ endpoint: 'http://127.0.0.1:9', apiVersion: '2018-10-30', credentials }),
  ];
};
`,
  'zod + schemas': (root) =>
    `import { loadConfig } from '${root}/shared/config.ts';
import { parseManifest } from '${root}/shared/manifest.ts';
import { parseObjectEvents } from '${root}/shared/oss-event.ts';
export const initialize = () => { (globalThis as { keep?: unknown }).keep = [loadConfig(process.env), parseManifest, parseObjectEvents]; };
`,
};

/**
 * Builds every variant under `dist/bench/variants/`. `env` is the probes' environment (the code cache is made with
 * it, under plain `node`, as a build step would).
 */
export const buildVariants = async (
  root: string,
  baselineRef: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Variants> => {
  const out = join(root, 'dist/bench/variants');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const after: Variant = {
    name: 'after',
    label: 'bundle (this build)',
    // BENCH_BUNDLE: another build of the function in its place, e.g. an unminified one to read profiles by name.
    module: process.env.BENCH_BUNDLE ?? join(root, 'dist/register/index.js'),
  };

  let before: Variant | undefined;
  let beforeMissing: string | undefined;
  if (baselineRef) {
    const src = join(out, 'baseline-src');
    beforeMissing = extractBaseline(root, baselineRef, src);
    if (!beforeMissing) {
      // The baseline's own build options: scripts/build.mjs as it was, one minified bundle.
      await build({
        ...commonOptions,
        absWorkingDir: root,
        nodePaths: [join(root, 'node_modules')],
        entryPoints: [join(src, 'functions/register/index.ts')],
        outfile: join(out, 'before/index.js'),
        minify: true,
        logLevel: 'error',
      });
      before = { name: 'before', label: `bundle before (${baselineRef})`, module: join(out, 'before/index.js') };
    }
  } else {
    beforeMissing = 'BENCH_BASELINE_REF=none';
  }

  const experiments: Variant[] = [];
  // The same function with ali-oss and pop-core as its transports (as shipped before the signed-request clients).
  await buildAll(
    registerBuilds(join(out, 'sdk-clients'), {
      plugins: [iconvSidecar, zodEnglishOnly, platformShim, sdkTransports(root)],
    }),
    root,
  );
  experiments.push({
    name: 'sdk-clients',
    label: 'this build with ali-oss + pop-core as its transports (as shipped before)',
    module: join(out, 'sdk-clients/index.js'),
    note: 'replaced: see "Cold start" in the notes',
  });
  // Experiment: a V8 code cache of this build.
  // Experiment 2: a V8 code cache of this build.
  const cacheDir = join(out, 'code-cache');
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync(after.module, join(cacheDir, 'bundle.js'));
  writeFileSync(join(cacheDir, 'index.js'), CODE_CACHE_LOADER);
  const made = spawnSync(process.execPath, ['-e', CODE_CACHE_MAKER, cacheDir], { env, encoding: 'utf8' });
  if (made.status === 0) {
    experiments.push({
      name: 'code-cache',
      label: 'experiment: this build + V8 code cache',
      module: join(cacheDir, 'index.js'),
      note: 'not shipped: the cache is only accepted by the same V8 with the same flags',
    });
  }

  const components: Variant[] = [];
  const sources = join(out, 'component-src');
  mkdirSync(sources, { recursive: true });
  // Node's own modules that the bundle requires, loaded alone: the part of every cold start no bundling removes.
  const builtins = new Set(builtinModules);
  const required = [...readFileSync(after.module, 'utf8').matchAll(/require\("(node:)?([a-z_/]+)"\)/g)]
    .map((match) => match[2] as string)
    .filter((name) => builtins.has(name));
  const builtinsDir = join(out, 'component-node-builtins');
  mkdirSync(builtinsDir, { recursive: true });
  writeFileSync(
    join(builtinsDir, 'index.js'),
    `'use strict';\nfor (const name of ${JSON.stringify([...new Set(required)].sort())}) require(name);\nexports.initialize = () => {};\n`,
  );
  components.push({
    name: 'node-builtins',
    label: 'Node built-ins the bundle requires',
    module: join(builtinsDir, 'index.js'),
  });
  for (const [name, source] of Object.entries(COMPONENT_SOURCES)) {
    const slug = name.replace(/[^a-z-]+/g, '-');
    const entry = join(sources, `${slug}.ts`);
    writeFileSync(entry, source(root));
    const dir = join(out, `component-${slug}`);
    await buildAll(
      registerBuilds(dir, {
        entry,
        nodePaths: [join(root, 'node_modules')],
        plugins: [iconvSidecar, zodEnglishOnly, platformShim],
      }),
      root,
    );
    components.push({ name: `component-${slug}`, label: `${name} alone (bundled)`, module: join(dir, 'index.js') });
  }
  return { after, before, experiments, components, ...(beforeMissing ? { beforeMissing } : {}) };
};
