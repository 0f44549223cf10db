/** The register function's FC entry points, in the forms FC's Node.js runtime documents (async, awaited). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler, initialize } from '../../functions/register/index.ts';
import type { FcContext } from '../../shared/fc-context.ts';
import { TEST_ENV } from '../fakes/register-deps.ts';

const context: FcContext = {
  requestId: 'req-entry',
  credentials: { accessKeyId: 'STS.entry', accessKeySecret: 'entry-secret', securityToken: 'entry-token' },
  function: { name: 'register', timeout: 60 },
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('functions/register entry points', () => {
  it('exports initialize(context) as an async function, which FC awaits (a sync one would be waited on for ever)', async () => {
    // Arrange
    for (const [name, value] of Object.entries(TEST_ENV)) vi.stubEnv(name, value);

    // Act
    const returned = initialize(context);

    // Assert
    expect(returned).toBeInstanceOf(Promise);
    await expect(returned).resolves.toBeUndefined();
  });

  it('reports a configuration fault through the promise, not as a synchronous throw', async () => {
    // Arrange
    for (const [name, value] of Object.entries(TEST_ENV)) vi.stubEnv(name, value);
    vi.stubEnv('OSS_BUCKET', '');

    // Act
    const returned = initialize(context);

    // Assert
    expect(returned).toBeInstanceOf(Promise);
    await expect(returned).rejects.toThrow(/OSS_BUCKET/);
  });

  it('exports handler(event, context) in the async two-argument form documented for nodejs18/20', () => {
    // Assert
    expect(handler.length).toBe(2);
    expect(handler.constructor.name).toBe('AsyncFunction');
  });
});
