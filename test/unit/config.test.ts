import { describe, expect, it } from 'vitest';
import { loadConfig, REQUIRED_VARIABLES } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { TEST_ENV } from '../fakes/register-deps.ts';

const configError = (env: Record<string, string | undefined>) => {
  try {
    loadConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('Expected loadConfig to throw');
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    // Act
    const config = loadConfig(TEST_ENV);

    // Assert
    expect(config).toMatchObject({
      bucket: 'algolib-packages',
      statusBucket: 'algolib-packages',
      packagePrefix: 'library/',
      statusPrefix: 'status/',
      ossRegion: 'oss-cn-shanghai',
      cityVisual: { regionId: 'cn-shanghai', timeoutMs: 10_000 },
      webhooks: { endpoints: [], states: ['REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED'] },
    });
  });

  it.each(REQUIRED_VARIABLES)('names %s when it is missing', (variable) => {
    // Arrange
    const env: Record<string, string | undefined> = { ...TEST_ENV, [variable]: undefined };

    // Act
    const error = configError(env);

    // Assert
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(`Environment variable ${variable} is required`);
  });

  it.each([
    ['CITYVISUAL_ENDPOINT', 'cityvisual.cn-shanghai.aliyuncs.com'],
    ['PACKAGE_PREFIX', 'library'],
    ['CITYVISUAL_TIMEOUT_MS', 'soon'],
    ['WEBHOOK_ENDPOINTS', '{not json'],
    [
      'WEBHOOK_ENDPOINTS',
      JSON.stringify([{ url: 'http://hooks.example.com/x', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }]),
    ],
    ['WEBHOOK_ENDPOINTS', JSON.stringify([{ url: 'https://hooks.example.com/x', secrets: ['plain'] }])],
    ['WEBHOOK_STATES', 'DONE'],
  ])('names %s when it is malformed (%s)', (variable, value) => {
    // Act
    const error = configError({ ...TEST_ENV, [variable]: value });

    // Assert
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^Environment variable ${variable} `));
  });

  it('never echoes a secret value in its error', () => {
    // Arrange
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    const env = { ...TEST_ENV, WEBHOOK_ENDPOINTS: JSON.stringify([{ url: 'ftp://x', secrets: [secret] }]) };

    // Act
    const error = configError(env);

    // Assert
    expect(error.message).not.toContain(secret);
  });

  it('allows plain http webhooks only on loopback addresses', () => {
    // Arrange
    const endpoints = [{ url: 'http://127.0.0.1:8080/hook', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }];

    // Act
    const config = loadConfig({ ...TEST_ENV, WEBHOOK_ENDPOINTS: JSON.stringify(endpoints) });

    // Assert
    expect(config.webhooks.endpoints).toEqual(endpoints);
  });
});
