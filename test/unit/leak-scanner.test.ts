import { describe, expect, it } from 'vitest';
import { createRandom } from '../../local/faults.ts';
import { CANARY_MARKER, createCanaries, createLeakScanner } from '../../proving/canary.ts';
import { createLogger } from '../../shared/log.ts';

const setUp = () => {
  const canaries = createCanaries(createRandom(7));
  const scanner = createLeakScanner(canaries.labelled);
  return { canaries, scanner };
};

describe('the soak leak scanner', () => {
  it('gives every secret credential the marker, and no access key id', () => {
    // Arrange
    const { canaries } = setUp();
    const { publisher, cityVisualReader, cityVisualApi, fcApi, sts, webhookSecret } = canaries.credentials;
    const triplet = sts();

    // Act
    const secrets = [publisher, cityVisualReader, cityVisualApi, fcApi, triplet].map((key) => key.accessKeySecret);
    const ids = [publisher, cityVisualReader, cityVisualApi, fcApi, triplet].map((key) => key.accessKeyId);

    // Assert
    for (const secret of [...secrets, triplet.securityToken, webhookSecret]) expect(secret).toContain(CANARY_MARKER);
    for (const id of ids) expect(id).not.toContain(CANARY_MARKER);
    expect(webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{16,}$/);
    expect(Buffer.from(webhookSecret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
  });

  it('finds a secret planted in a line and names it, without repeating it', () => {
    // Arrange
    const { canaries, scanner } = setUp();
    const { accessKeySecret } = canaries.credentials.sts();

    // Act
    scanner.scan('log', `{"step":"oops","secret":"${accessKeySecret}"}`);

    // Assert
    expect(scanner.hits()).toEqual([{ where: 'log', secret: 'STS secret 1', excerpt: expect.any(String) }]);
    expect(scanner.hits()[0]?.excerpt).not.toContain(accessKeySecret);
  });

  it('finds a truncated secret by its marker', () => {
    // Arrange
    const { canaries, scanner } = setUp();

    // Act
    scanner.scan('status/library/a.json', canaries.credentials.fcApi.accessKeySecret.slice(0, 10));

    // Assert
    expect(scanner.hits()).toMatchObject([{ where: 'status/library/a.json', secret: 'partial' }]);
    expect(scanner.scanned()).toMatchObject({ texts: 1, byPlace: { status: 1 } });
  });

  it("finds nothing in the function's log line once the logger has scrubbed the secret", () => {
    // Arrange
    const { canaries, scanner } = setUp();
    const secret = canaries.credentials.cityVisualReader.accessKeySecret;
    const lines: string[] = [];
    const log = createLogger(
      {},
      () => [secret],
      (line) => lines.push(line),
    );

    // Act
    log.error('cityvisual.failed', { error: `request failed: OssAccessKeySecret=${secret}&x=1 (${secret})` });
    for (const line of lines) scanner.scan('log', line);

    // Assert
    expect(lines).toHaveLength(1);
    expect(scanner.hits()).toEqual([]);
  });
});
