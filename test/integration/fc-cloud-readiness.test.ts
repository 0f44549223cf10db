/**
 * The register function on a local cloud whose FC behaves as the real one may, where the docs leave it open:
 * STS credentials that rotate and expire, instances that freeze when idle (and lose their keep-alive sockets), and
 * async retries that keep or renew the request id. The function must register under every reading.
 */
import OSS from 'ali-oss';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCloud, type LocalCloudOptions, projectRoot, startLocalCloud } from '../../local/cloud.ts';
import { writeSoakTemplate } from '../../proving/soak-template.ts';
import { crc64 } from '../../shared/crc64.ts';
import { statusKeyOf } from '../../shared/keys.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { validManifest } from '../fakes/register-deps.ts';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.close();
});

type Logged = Record<string, unknown>;

const start = async (fc: NonNullable<LocalCloudOptions['fc']>, templatePath?: string) => {
  const logs: Logged[] = [];
  const cloud = await startLocalCloud({
    stateFile: false,
    fc: { asyncRetryBaseMs: 20, ...fc },
    log: (entry) => logs.push(entry),
    ...(templatePath ? { templatePath } : {}),
  });
  running.push(cloud);
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
  const client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
  return { cloud, client, logs };
};

let sequence = 0;
const publish = async (client: OSS, label: string) => {
  sequence += 1;
  const name = `${label}-${sequence}-${Date.now().toString(36)}`;
  const bytes = Buffer.from(`package ${name}`);
  const packageKey = `library/${name}/${name}-1.0.0.tar.gz`;
  const manifest = validManifest({ name, version: '1.0.0', package: { size: bytes.length, crc64: crc64(bytes) } });
  await client.put(packageKey, bytes);
  await client.put(packageKey.replace(/\.tar\.gz$/, '.manifest.json'), Buffer.from(JSON.stringify(manifest)));
  return { name, statusKey: statusKeyOf(packageKey, 'status/') };
};

const statusOf = async (cloud: LocalCloud, client: OSS, key: string) => {
  await cloud.idle();
  const { content } = await client.get(key);
  return JSON.parse(content.toString('utf8')) as StatusDocument;
};

/** The function's own log lines (JSON), as the FC emulator forwarded them. */
const functionLines = (logs: Logged[]) =>
  logs
    .filter((entry) => entry.service === 'fc' && entry.stream === 'stdout' && typeof entry.line === 'string')
    .map((entry) => entry.line as string);

describe('register on a local cloud with rotating STS credentials and freezing instances', () => {
  it('keeps registering after its credentials rotated (and the old ones expired) and after a freeze and thaw', async () => {
    // Arrange: rotate every 150 ms, freeze after 100 ms idle.
    const { cloud, client, logs } = await start({ credentialRotationMs: 150, freezeAfterIdleMs: 100 });
    const first = await publish(client, 'rotate');
    expect((await statusOf(cloud, client, first.statusKey)).state).toBe('REGISTERED');

    // Act: idle long enough for rotations (the first triplet expires) and a freeze, then publish again.
    const rotatedBefore = cloud.fc.stats().credentialsRotated;
    for (let wait = 0; wait < 50 && cloud.fc.stats().credentialsRotated < rotatedBefore + 2; wait++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await publish(client, 'rotate');
    const status = await statusOf(cloud, client, second.statusKey);

    // Assert
    expect(status.state).toBe('REGISTERED');
    const stats = cloud.fc.stats();
    expect(stats.credentialsRotated).toBeGreaterThanOrEqual(rotatedBefore + 2);
    expect(stats.freezes).toBeGreaterThanOrEqual(1);
    expect(logs.some((entry) => entry.event === 'instance-thawed')).toBe(true);
    expect(stats.socketsReset).toBeGreaterThanOrEqual(1);
  });
});

describe.each(['keep', 'new'] as const)(
  'a crash right after taking the name claim, retried with request id: %s',
  (mode) => {
    it("ends REGISTERED with one library; a new request id waits for the dead attempt's claim to expire", async () => {
      // Arrange: Timeout 6 s (the claim's lifetime), and an instance killed the moment it logs that it took the claim.
      const template = writeSoakTemplate(projectRoot(), {
        timeoutSeconds: 6,
        environment: { DEADLINE_RESERVE_MS: '1000' },
      });
      running.push({ close: async () => template.remove() });
      let crashed = false;
      const { cloud, client, logs } = await start(
        {
          asyncRetryRequestId: mode,
          crashWhen: (line) => {
            if (crashed || !line.includes('claim.acquired')) return false;
            crashed = true;
            return true;
          },
        },
        template.path,
      );

      // Act
      const startedAt = performance.now();
      const pair = await publish(client, `crash-${mode}`);
      const status = await statusOf(cloud, client, pair.statusKey);
      const seconds = (performance.now() - startedAt) / 1000;

      // Assert
      expect(crashed).toBe(true);
      expect(status.state).toBe('REGISTERED');
      expect(cloud.cityvisual.counters().created).toBe(1);
      const lines = functionLines(logs);
      const busy = lines.filter((line) => line.includes('claim.busy')).length;
      const generations = lines
        .filter((line) => line.includes('claim.acquired'))
        .map((line) => (JSON.parse(line) as { generation: number }).generation);
      const attempts = logs.filter((entry) => entry.kind === 'async').length;
      // keep: the retry knows the claim as its own, releases it and takes the next generation at once.
      // new: the retry is a stranger to the dead attempt's claim and waits for it to expire, then takes the next one.
      if (mode === 'keep') expect(generations.slice(0, 2)).toEqual([0, 1]);
      else expect(Math.max(...generations)).toBeGreaterThanOrEqual(1);
      // What the lead asked to see: how long the registration took and how the retries found the claim.
      process.stdout.write(
        `[request id ${mode}] registered in ${seconds.toFixed(1)} s, ${attempts} FC attempts, ${busy} claim.busy lines, claim generations ${generations.join(',')}\n`,
      );
    }, 40_000);
  },
);
