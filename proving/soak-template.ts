/**
 * The soak's copy of `template.yml`: the same function, triggers and async config, with a short `Timeout` (so a
 * crashed invocation's name claim expires in seconds, not a minute) and tighter per-call timeouts. The copy lives in
 * a temporary folder whose `dist` links to the project's build, which is where the local cloud looks for the bundle.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

const FUNCTION_PROPERTIES = ['Resources', 'algolib', 'register', 'Properties'];

export type SoakTemplate = { path: string; remove(): void };

/**
 * Writes the copy and returns its path.
 *
 * @example
 * ```ts
 * const template = writeSoakTemplate(projectRoot(), { timeoutSeconds: 10, environment: { CITYVISUAL_TIMEOUT_MS: '1500' } });
 * await startLocalCloud({ templatePath: template.path });
 * ```
 */
export const writeSoakTemplate = (
  root: string,
  options: { timeoutSeconds: number; environment: Record<string, string> },
): SoakTemplate => {
  const doc = parseDocument(readFileSync(join(root, 'template.yml'), 'utf8'), { logLevel: 'silent' });
  if (typeof doc.getIn([...FUNCTION_PROPERTIES, 'Timeout']) !== 'number') {
    throw new Error(`Expected template.yml to define ${FUNCTION_PROPERTIES.join('.')}.Timeout`);
  }
  doc.setIn([...FUNCTION_PROPERTIES, 'Timeout'], options.timeoutSeconds);
  for (const [name, value] of Object.entries(options.environment))
    doc.setIn([...FUNCTION_PROPERTIES, 'EnvironmentVariables', name], value);
  const dir = mkdtempSync(join(tmpdir(), 'algolib-soak-template-'));
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'register', 'index.js')))
    throw new Error(
      `Expected the function bundle at ${join(dist, 'register', 'index.js')}: run \`npm run build\` first`,
    );
  symlinkSync(dist, join(dir, 'dist'), 'dir');
  const path = join(dir, 'template.yml');
  writeFileSync(path, doc.toString());
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
};
