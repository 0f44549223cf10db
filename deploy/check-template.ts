/**
 * The template checker `algolib deploy` runs before it plans (and alone with `--check`): offline, it holds
 * `template.yml` to what FC accepts and to what the code expects.
 *
 * Structure: everything the loader (`template.ts`) refuses (ROSTemplateFormatVersion, Transform, unknown keys,
 * missing parameters, ranges), plus FC's Node.js runtimes (nodejs14–20, where Funcraft's enum stops at nodejs12),
 * FC's MemorySize steps, exact OSS event names (never `oss:ObjectCreated:*`, which fires once per multipart part),
 * overlapping triggers on a bucket (OSS refuses them), and the service properties deploy can apply.
 * Agreement with the code: the handler and initializer exist in the built bundle, the environment sets every
 * variable `shared/config.ts` requires and `loadConfig` accepts it, secret variables come from NoEcho parameters, the
 * triggers watch the function's bucket with the key conventions of `shared/keys.ts`, and nothing the function
 * writes under the status prefix can fire a trigger.
 *
 * No finding ever quotes a NoEcho value.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FunctionModel,
  loadTemplate,
  type OssTriggerModel,
  TemplateError,
  type TemplateModel,
  type TemplateOptions,
} from '../platform/fc/template.ts';
import { ossTriggersOverlap } from '../platform/fc/trigger-match.ts';
import { type Config, loadConfig, REQUIRED_VARIABLES, SECRET_VARIABLES } from '../shared/config.ts';
import { claimKeyOf, MANIFEST_SUFFIX, PACKAGE_SUFFIX, pairOf, statusKeyOf } from '../shared/keys.ts';
import { scrub } from '../shared/log.ts';
import { serviceConfigOf } from './desired-state.ts';

export type CheckRule =
  | 'structure'
  | 'runtime'
  | 'memory-size'
  | 'event-names'
  | 'upload-events'
  | 'overlapping-triggers'
  | 'bundle'
  | 'required-variables'
  | 'config'
  | 'secret-parameters'
  | 'trigger-bucket'
  | 'trigger-keys'
  | 'status-prefix'
  | 'status-bucket'
  | 'async-config'
  | 'timeout-budget';

export type Finding = {
  level: 'error' | 'warning';
  rule: CheckRule;
  /** The template node: `Resources.algolib.register.Properties.Runtime`. */
  path: string;
  message: string;
};

export type CheckOptions = Pick<TemplateOptions, 'parameters' | 'accountId' | 'region'> & {
  /** Check parameters without a value or Default with a stand-in (`placeholder-<name>`) instead of failing. */
  placeholders?: boolean;
  /** The names a code file exports; defaults to loading it in a fresh Node.js process, as FC does. */
  exportsOf?: (file: string) => Promise<string[]>;
};

export type CheckResult = {
  /** Undefined when the template did not load (a `structure` finding says why). */
  model: TemplateModel | undefined;
  findings: Finding[];
  /** Parameters that were checked with a stand-in value. */
  placeholders: string[];
};

/** FC's Node.js runtimes (FC 2.0); the bundle is built for node20 (scripts/build.mjs). */
const NODE_RUNTIMES = ['nodejs14', 'nodejs16', 'nodejs18', 'nodejs20'];
const BUNDLE_RUNTIME = 'nodejs20';
/** Funcraft's MemorySize enum: 128…3072 MB in 64 MB steps, then 4, 8, 16 and 32 GB. */
const LARGE_MEMORY_SIZES = [4096, 8192, 16384, 32768];
/** The OSS event types FC's native OSS trigger accepts (without the `oss:` prefix). */
const OSS_EVENTS = [
  'ObjectCreated:PutObject',
  'ObjectCreated:PostObject',
  'ObjectCreated:CopyObject',
  'ObjectCreated:AppendObject',
  'ObjectCreated:CompleteMultipartUpload',
  'ObjectCreated:InitiateMultipartUpload',
  'ObjectCreated:UploadPart',
  'ObjectCreated:UploadPartCopy',
  'ObjectCreated:PutSymlink',
  'ObjectRemoved:DeleteObject',
  'ObjectRemoved:DeleteObjects',
  'ObjectRemoved:AbortMultipartUpload',
  'ObjectRemoved:*',
  'ObjectModified:UpdateObjectMeta',
  'ObjectModified:*',
];
/** Every way a publisher's object can arrive (docs/contracts.md "Object keys"). */
const UPLOAD_EVENTS = [
  'oss:ObjectCreated:PutObject',
  'oss:ObjectCreated:PostObject',
  'oss:ObjectCreated:CompleteMultipartUpload',
  'oss:ObjectCreated:CopyObject',
];

/**
 * Checks a template file; never throws for a problem of the template itself.
 *
 * @example
 * ```ts
 * const { findings } = await checkTemplate('template.yml', { placeholders: true });
 * const failed = findings.some((finding) => finding.level === 'error');
 * ```
 */
export const checkTemplate = async (templatePath: string, options: CheckOptions = {}): Promise<CheckResult> => {
  const placeholders: string[] = [];
  const missingParameter = (name: string) => {
    placeholders.push(name);
    return `placeholder-${name.toLowerCase()}`;
  };
  let model: TemplateModel;
  try {
    model = loadTemplate(templatePath, {
      parameters: options.parameters ?? {},
      ...(options.accountId ? { accountId: options.accountId } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.placeholders ? { missingParameter } : {}),
    });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { model: undefined, findings: [structureFinding(error)], placeholders };
  }
  const exportsOf = options.exportsOf ?? exportsInFreshProcess;
  const findings = [
    ...checkServices(model),
    ...checkTriggersTogether(model),
    ...(await Promise.all(functionsOf(model).map(({ path, fn }) => checkFunction(model, path, fn, exportsOf)))).flat(),
  ];
  const secrets = [...model.noEcho].map((name) => model.parameters[name] ?? '');
  return {
    model,
    findings: findings.map((finding) => ({ ...finding, message: scrub(finding.message, secrets) })),
    placeholders,
  };
};

const functionsOf = (model: TemplateModel) =>
  model.services.flatMap((service) =>
    service.functions.map((fn) => ({ path: `Resources.${service.name}.${fn.name}`, fn })),
  );

const error = (rule: CheckRule, path: string, message: string): Finding => ({ level: 'error', rule, path, message });
const warning = (rule: CheckRule, path: string, message: string): Finding => ({
  level: 'warning',
  rule,
  path,
  message,
});

const structureFinding = (problem: TemplateError): Finding => error('structure', problem.path, problem.message);

// ---------------------------------------------------------------------------------------------------------------
// Structure

const checkServices = (model: TemplateModel): Finding[] =>
  model.services.flatMap((service) => {
    try {
      serviceConfigOf(service.name, service.properties);
      return [];
    } catch (problem) {
      if (problem instanceof TemplateError) return [structureFinding(problem)];
      throw problem;
    }
  });

const checkRuntime = (path: string, fn: FunctionModel): Finding[] => {
  const at = `${path}.Properties.Runtime`;
  if (!NODE_RUNTIMES.includes(fn.runtime)) {
    return [
      error(
        'runtime',
        at,
        `Expected \`${at}\` to be one of ${NODE_RUNTIMES.join(', ')} (FC's Node.js runtimes; Funcraft's list stops at nodejs12), got ${fn.runtime}`,
      ),
    ];
  }
  if (fn.runtime !== BUNDLE_RUNTIME) {
    return [
      warning(
        'runtime',
        at,
        `Expected \`${at}\` to be ${BUNDLE_RUNTIME}, the runtime the bundle is built for (scripts/build.mjs targets node20), got ${fn.runtime}`,
      ),
    ];
  }
  return [];
};

const checkMemorySize = (path: string, fn: FunctionModel): Finding[] => {
  const size = fn.memorySize;
  if ((size >= 128 && size <= 3072 && size % 64 === 0) || LARGE_MEMORY_SIZES.includes(size)) return [];
  const at = `${path}.Properties.MemorySize`;
  return [
    error(
      'memory-size',
      at,
      `Expected \`${at}\` to be 128 to 3072 MB in steps of 64, or ${LARGE_MEMORY_SIZES.join(', ')}, got ${size}`,
    ),
  ];
};

const triggerPath = (path: string, trigger: OssTriggerModel) => `${path}.Events.${trigger.name}.Properties`;

const checkEventNames = (path: string, fn: FunctionModel): Finding[] =>
  fn.triggers.flatMap((trigger) => {
    const at = `${triggerPath(path, trigger)}.Events`;
    const findings = trigger.events.flatMap((event) => {
      if (event === 'oss:ObjectCreated:*') {
        return [
          error(
            'event-names',
            at,
            `Expected \`${at}\` to list exact event names, got oss:ObjectCreated:* (it fires once per part of a multipart upload): list ${UPLOAD_EVENTS.join(', ')}`,
          ),
        ];
      }
      if (!OSS_EVENTS.includes(event.replace(/^oss:/, ''))) {
        return [
          error(
            'event-names',
            at,
            `Expected \`${at}\` to hold OSS event names such as oss:ObjectCreated:PutObject, got ${event}`,
          ),
        ];
      }
      return [];
    });
    const missing = UPLOAD_EVENTS.filter(
      (event) => !trigger.events.includes(event) && !trigger.events.includes('oss:ObjectCreated:*'),
    );
    if (missing.length > 0) {
      findings.push(
        warning(
          'upload-events',
          at,
          `Expected \`${at}\` to include ${missing.join(', ')}: objects uploaded that way would not start a registration`,
        ),
      );
    }
    return findings;
  });

/** OSS refuses a second notification rule with a shared event type and an overlapping prefix and suffix. */
const checkTriggersTogether = (model: TemplateModel): Finding[] => {
  const all = functionsOf(model).flatMap(({ path, fn }) => fn.triggers.map((trigger) => ({ path, trigger })));
  return all.flatMap((a, index) =>
    all
      .slice(index + 1)
      .filter((b) => ossTriggersOverlap(a.trigger, b.trigger))
      .map((b) =>
        error(
          'overlapping-triggers',
          triggerPath(b.path, b.trigger),
          `Expected triggers ${a.trigger.name} and ${b.trigger.name} on bucket ${b.trigger.bucketName} not to overlap, got a shared event type with overlapping Prefix and Suffix (OSS refuses this)`,
        ),
      ),
  );
};

// ---------------------------------------------------------------------------------------------------------------
// Agreement with the code

const checkFunction = async (
  model: TemplateModel,
  path: string,
  fn: FunctionModel,
  exportsOf: (file: string) => Promise<string[]>,
): Promise<Finding[]> => {
  const environment = checkEnvironment(model, path, fn);
  return [
    ...checkRuntime(path, fn),
    ...checkMemorySize(path, fn),
    ...checkEventNames(path, fn),
    ...(await checkBundle(path, fn, exportsOf)),
    ...environment.findings,
    ...(environment.config ? checkKeys(path, fn, environment.config) : []),
    ...checkAsyncConfiguration(path, fn),
    ...(environment.config ? checkTimeoutBudget(path, fn, environment.config) : []),
  ];
};

/** FC's loader: `<module>.<export>`, the module found as .js, .cjs or .mjs in the code folder. */
const checkBundle = async (
  path: string,
  fn: FunctionModel,
  exportsOf: (file: string) => Promise<string[]>,
): Promise<Finding[]> => {
  const at = `${path}.Properties`;
  if (fn.codeUri.startsWith('oss://')) {
    return [
      error(
        'bundle',
        `${at}.CodeUri`,
        `Expected \`${at}.CodeUri\` to be a local folder (algolib deploy uploads the code itself), got ${fn.codeUri}`,
      ),
    ];
  }
  const entries = [
    ['Handler', fn.handler],
    ...(fn.initializer ? [['Initializer', fn.initializer] as const] : []),
  ] as const;
  const byModule = new Map<string, Promise<string[] | Error>>();
  const findings: Finding[] = [];
  for (const [property, spec] of entries) {
    const dot = spec.lastIndexOf('.');
    const moduleName = spec.slice(0, dot);
    const exportName = spec.slice(dot + 1);
    const file = ['.js', '.cjs', '.mjs'].map((ext) => join(fn.codeUri, moduleName + ext)).find((f) => existsSync(f));
    if (dot <= 0 || !file) {
      findings.push(
        error(
          'bundle',
          `${at}.${property}`,
          `Expected \`${at}.${property}\` (${spec}) to name a module in ${fn.codeUri}, got no ${moduleName}.js there (run \`npm run build\`?)`,
        ),
      );
      continue;
    }
    const pending =
      byModule.get(file) ??
      exportsOf(file).catch((problem: unknown) => (problem instanceof Error ? problem : new Error(String(problem))));
    byModule.set(file, pending);
    const exported = await pending;
    if (exported instanceof Error) {
      findings.push(
        error('bundle', `${at}.${property}`, `Expected ${file} to load, got ${exported.message.split('\n')[0]}`),
      );
    } else if (!exported.includes(exportName)) {
      findings.push(
        error(
          'bundle',
          `${at}.${property}`,
          `Expected ${file} to export a function \`${exportName}\` (${property} ${spec}), got exports ${exported.join(', ') || 'none'}`,
        ),
      );
    }
  }
  return findings;
};

// Loaded in a child process: the bundle's top level runs as it would on FC, and nothing of it stays in this process.
const EXPORTS_SCRIPT = `
const { pathToFileURL } = require('node:url');
const load = async (file) => {
  try { return require(file); } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
};
load(process.argv[1]).then(
  (loaded) => {
    const names = new Set();
    for (const source of [loaded, loaded && loaded.default]) {
      if (source && typeof source === 'object') for (const key of Object.keys(source)) if (typeof source[key] === 'function') names.add(key);
    }
    process.stdout.write(JSON.stringify([...names]));
  },
  (error) => { process.stderr.write(String((error && error.message) || error)); process.exit(1); },
);`;

const exportsInFreshProcess = (file: string): Promise<string[]> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', EXPORTS_SCRIPT, file],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000, maxBuffer: 1024 * 1024 },
      (problem, stdout, stderr) => {
        if (problem) reject(new Error(stderr.trim() || problem.message));
        else resolve(JSON.parse(stdout) as string[]);
      },
    );
  });

const checkEnvironment = (
  model: TemplateModel,
  path: string,
  fn: FunctionModel,
): { findings: Finding[]; config?: Config } => {
  const at = `${path}.Properties.EnvironmentVariables`;
  const environment = fn.environmentVariables;
  const findings: Finding[] = REQUIRED_VARIABLES.filter((name) => environment[name] === undefined).map((name) =>
    error(
      'required-variables',
      `${at}.${name}`,
      `Expected \`${at}\` to set ${name}, which shared/config.ts requires, got nothing`,
    ),
  );
  findings.push(...checkSecretVariables(model, at, environment));
  if (findings.some((finding) => finding.rule === 'required-variables')) return { findings };
  try {
    return { findings, config: loadConfig(environment) };
  } catch (problem) {
    // ConfigError names the variable and the rule, never the value; check-template scrubs NoEcho values anyway.
    const message = problem instanceof Error ? problem.message : String(problem);
    findings.push(
      error('config', at, `Expected the function's environment to load with shared/config.ts, got: ${message}`),
    );
    return { findings };
  }
};

/** A secret in the environment must come from a NoEcho parameter, or it is printed wherever the template is. */
const checkSecretVariables = (model: TemplateModel, at: string, environment: Record<string, string>): Finding[] => {
  const noEchoValues = [...model.noEcho].map((name) => model.parameters[name] ?? '');
  return SECRET_VARIABLES.flatMap((name) => {
    const value = environment[name];
    if (value === undefined || noEchoValues.includes(value)) return [];
    const source = Object.entries(model.parameters).find(([, parameterValue]) => parameterValue === value)?.[0];
    const got = source ? `parameter \`${source}\`, which is not NoEcho` : 'a value written in the template';
    return [
      error(
        'secret-parameters',
        `${at}.${name}`,
        `Expected \`${at}.${name}\` to come from a NoEcho parameter (!Ref), got ${got}`,
      ),
    ];
  });
};

/** The triggers against shared/keys.ts: the function's bucket, PACKAGE_PREFIX, one trigger per suffix. */
const checkKeys = (path: string, fn: FunctionModel, config: Config): Finding[] => {
  const findings: Finding[] = [];
  for (const trigger of fn.triggers) {
    const at = triggerPath(path, trigger);
    if (trigger.bucketName !== config.bucket) {
      findings.push(
        error(
          'trigger-bucket',
          `${at}.BucketName`,
          `Expected \`${at}.BucketName\` to be the function's OSS_BUCKET (${config.bucket}), got ${trigger.bucketName}`,
        ),
      );
    }
    if (trigger.filter.prefix !== config.packagePrefix) {
      findings.push(
        error(
          'trigger-keys',
          `${at}.Filter.Key.Prefix`,
          `Expected \`${at}.Filter.Key.Prefix\` to be PACKAGE_PREFIX (${JSON.stringify(config.packagePrefix)}), got ${JSON.stringify(trigger.filter.prefix)}`,
        ),
      );
    }
    if (trigger.filter.suffix !== PACKAGE_SUFFIX && trigger.filter.suffix !== MANIFEST_SUFFIX) {
      findings.push(
        error(
          'trigger-keys',
          `${at}.Filter.Key.Suffix`,
          `Expected \`${at}.Filter.Key.Suffix\` to be ${PACKAGE_SUFFIX} or ${MANIFEST_SUFFIX}, got ${JSON.stringify(trigger.filter.suffix)}`,
        ),
      );
    }
  }
  for (const suffix of [PACKAGE_SUFFIX, MANIFEST_SUFFIX]) {
    if (!fn.triggers.some((trigger) => trigger.filter.suffix === suffix)) {
      findings.push(
        error(
          'trigger-keys',
          `${path}.Events`,
          `Expected a trigger with Suffix ${suffix} (either half of a pair may arrive last), got none`,
        ),
      );
    }
  }
  return [...findings, ...checkStatusPrefix(path, fn, config)];
};

/** Everything the function writes (status objects, name claims) must stay outside both triggers. */
const checkStatusPrefix = (path: string, fn: FunctionModel, config: Config): Finding[] => {
  const at = `${path}.Properties.EnvironmentVariables.STATUS_PREFIX`;
  if (config.statusPrefix.startsWith(config.packagePrefix)) {
    return [
      error(
        'status-prefix',
        at,
        `Expected STATUS_PREFIX (${JSON.stringify(config.statusPrefix)}) to lie outside PACKAGE_PREFIX (${JSON.stringify(config.packagePrefix)}), got a prefix inside it`,
      ),
    ];
  }
  const written = [
    statusKeyOf(`${config.packagePrefix}face/face-1.2.0${PACKAGE_SUFFIX}`, config.statusPrefix),
    claimKeyOf('face', 0, config.statusPrefix),
  ];
  return written.flatMap((key) => {
    const firing = fn.triggers.find(
      (trigger) => key.startsWith(trigger.filter.prefix) && key.endsWith(trigger.filter.suffix),
    );
    if (!firing && pairOf(key, config.packagePrefix) === undefined) return [];
    return [
      error(
        'status-prefix',
        at,
        `Expected the function's own writes to stay outside its triggers, got ${key} firing ${firing?.name ?? 'the pipeline'}`,
      ),
    ];
  });
};

const checkAsyncConfiguration = (path: string, fn: FunctionModel): Finding[] => {
  const at = `${path}.Properties.AsyncConfiguration`;
  const config = fn.asyncConfiguration;
  const findings: Finding[] = [];
  if (!config?.onFailure) {
    findings.push(
      warning(
        'async-config',
        `${at}.Destination.OnFailure`,
        `Expected \`${at}.Destination.OnFailure\` to be set, got nothing: FC discards an event whose retries are exhausted`,
      ),
    );
  }
  const retries = config?.maxAsyncRetryAttempts ?? 3;
  if (retries > 3) {
    findings.push(
      warning(
        'async-config',
        `${at}.MaxAsyncRetryAttempts`,
        `Expected \`${at}.MaxAsyncRetryAttempts\` to be at most 3 (the function retries transient errors itself, and FC's retries multiply them), got ${retries}`,
      ),
    );
  }
  return findings;
};

/** One CityVisual attempt plus the time kept back for the status write must fit in the function's Timeout. */
const checkTimeoutBudget = (path: string, fn: FunctionModel, config: Config): Finding[] => {
  const neededMs = config.cityVisual.timeoutMs + config.deadlineReserveMs;
  if (fn.timeout * 1000 > neededMs) return [];
  const at = `${path}.Properties.Timeout`;
  return [
    warning(
      'timeout-budget',
      at,
      `Expected \`${at}\` to exceed ${Math.ceil(neededMs / 1000)} s (one CityVisual attempt of CITYVISUAL_TIMEOUT_MS plus DEADLINE_RESERVE_MS), got ${fn.timeout} s`,
    ),
  ];
};
