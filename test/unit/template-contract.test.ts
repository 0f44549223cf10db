/**
 * template.yml held against the code: what FC will run must be what we built and configured. The checks are the
 * template checker's (deploy/check-template.ts, which `algolib deploy` runs first); this file pins that the project's
 * own template passes each of them, and the contract values they rest on.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CheckResult, type CheckRule, checkTemplate } from '../../deploy/check-template.ts';
import { loadConfig, REQUIRED_VARIABLES } from '../../shared/config.ts';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX, pairOf } from '../../shared/keys.ts';
import { TEMPLATE_PARAMETERS } from '../fixtures/template-parameters.ts';

const SAMPLE_PARAMETERS = TEMPLATE_PARAMETERS;

let checked: CheckResult;
const model = () => {
  if (!checked.model) throw new Error(`template.yml did not load: ${checked.findings[0]?.message}`);
  return checked.model;
};
const fn = () => model().services[0]?.functions[0];
const findingsOf = (...rules: CheckRule[]) => checked.findings.filter((finding) => rules.includes(finding.rule));

beforeAll(async () => {
  checked = await checkTemplate('template.yml', { parameters: SAMPLE_PARAMETERS });
});

describe('template.yml', () => {
  it('passes the template checker without a finding', () => {
    // Assert
    expect(checked.findings).toEqual([]);
  });

  it('declares one nodejs20 function with the bundle as code and both entry points', () => {
    // Assert
    expect(fn()).toMatchObject({ runtime: 'nodejs20', handler: 'index.handler', initializer: 'index.initialize' });
    expect(fn()?.codeUri).toMatch(/dist\/register$/);
    expect(findingsOf('structure', 'runtime', 'memory-size')).toEqual([]);
  });

  it('points at a bundle that exports the handler and the initializer it names', () => {
    // Arrange
    const bundle = `${fn()?.codeUri}/index.js`;

    // Assert: the checker loads the bundle in a fresh process, as FC does, and looks for both exports.
    expect(existsSync(bundle), 'run `npm run build` first').toBe(true);
    expect(findingsOf('bundle')).toEqual([]);
  });

  it('sets every variable the config requires, and the config loads from them', () => {
    // Arrange
    const env = fn()?.environmentVariables ?? {};

    // Act / Assert
    for (const variable of REQUIRED_VARIABLES) expect(env, variable).toHaveProperty(variable);
    expect(() => loadConfig(env)).not.toThrow();
    expect(findingsOf('required-variables', 'config', 'secret-parameters')).toEqual([]);
  });

  it('has two OSS triggers, one per suffix, on the package prefix, with exact event names', () => {
    // Arrange
    const prefix = model().parameters.PackagePrefix ?? '';

    // Assert
    expect(fn()?.triggers.map((trigger) => trigger.filter)).toEqual([
      { prefix, suffix: PACKAGE_SUFFIX },
      { prefix, suffix: MANIFEST_SUFFIX },
    ]);
    for (const trigger of fn()?.triggers ?? []) {
      expect(trigger.bucketName).toBe(SAMPLE_PARAMETERS.BucketName);
      // ObjectCreated:* would fire once per multipart part.
      expect([...trigger.events].sort()).toEqual([
        'oss:ObjectCreated:CompleteMultipartUpload',
        'oss:ObjectCreated:CopyObject',
        'oss:ObjectCreated:PostObject',
        'oss:ObjectCreated:PutObject',
      ]);
    }
    expect(
      findingsOf('event-names', 'upload-events', 'overlapping-triggers', 'trigger-keys', 'trigger-bucket'),
    ).toEqual([]);
  });

  it('keeps every key the function writes outside both triggers', () => {
    // Arrange
    const config = loadConfig(fn()?.environmentVariables ?? {});
    const written = [
      `${config.statusPrefix}library/face/face-1.2.0.json`,
      `${config.statusPrefix}.claims/face/000000.json`,
    ];

    // Assert
    for (const key of written) {
      for (const trigger of fn()?.triggers ?? []) {
        expect(key.startsWith(trigger.filter.prefix) && key.endsWith(trigger.filter.suffix)).toBe(false);
      }
      expect(pairOf(key, config.packagePrefix)).toBeUndefined();
    }
    expect(findingsOf('status-prefix')).toEqual([]);
  });

  it('sends exhausted events to an OnFailure destination after few FC retries (the function retries itself)', () => {
    // Assert
    expect(fn()?.asyncConfiguration?.maxAsyncRetryAttempts).toBeLessThanOrEqual(3);
    expect(fn()?.asyncConfiguration?.onFailure).toBe(SAMPLE_PARAMETERS.OnFailureDestination);
    expect(findingsOf('async-config', 'timeout-budget')).toEqual([]);
  });

  it('marks every secret parameter NoEcho', () => {
    // Assert
    expect([...model().noEcho].sort()).toEqual(['ChatRobots', 'CityVisualOssAccessKeySecret', 'WebhookEndpoints']);
  });
});
