'use strict';
/**
 * The memory run's host process: plain CommonJS with no dependencies, like the FC emulator's instance runner, so that
 * what it measures is the function's memory and not the bench's. Forked with an IPC channel:
 *
 *   parent → { type: 'start', bundle, env, context, bucket, total, concurrency, sampleEvery, gcEvery }
 *   runner → { type: 'need' }                   parent → { type: 'events', events: [{ key, size, etag }] }
 *   runner → { type: 'done', samples, retained, outcomes, failures, wallMs, cpuSeconds }
 *
 * It loads the bundle, runs `initialize`, then keeps `concurrency` invocations in flight (InstanceConcurrency) until
 * `total` events ran; `process.memoryUsage()` every `sampleEvery` events, and after a full GC every `gcEvery`.
 */
const { randomUUID } = require('node:crypto');

const sample = (events) => {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { events, rss, heapUsed, heapTotal, external };
};

/** The FC OSS trigger payload of one upload (bench/events.ts builds the same). */
const payloadOf = (bucket, object) =>
  Buffer.from(
    JSON.stringify({
      events: [
        {
          eventName: 'ObjectCreated:PutObject',
          eventSource: 'acs:oss',
          eventTime: new Date().toISOString(),
          eventVersion: '1.0',
          oss: {
            bucket: {
              arn: `acs:oss:cn-shanghai:1000000000000000:${bucket}`,
              name: bucket,
              ownerIdentity: '1000000000000000',
            },
            object: { deltaSize: object.size, eTag: object.etag, key: object.key, size: object.size },
            ossSchemaVersion: '1.0',
            ruleId: 'bench',
          },
          region: 'cn-shanghai',
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: { requestId: 'bench' },
          userIdentity: { principalId: '1000000000000000' },
        },
      ],
    }),
  );

const run = async (start) => {
  Object.assign(process.env, start.env);
  const fn = require(start.bundle);
  fn.initialize({ ...start.context, requestId: randomUUID() });
  const queue = [];
  let waiting;
  const next = async () => {
    if (queue.length === 0) {
      const arrived = new Promise((resolve) => {
        waiting = resolve;
      });
      process.send({ type: 'need' });
      await arrived;
    }
    return queue.shift();
  };
  process.on('message', (message) => {
    if (message.type !== 'events') return;
    queue.push(...message.events);
    waiting?.();
    waiting = undefined;
  });

  const outcomes = {};
  const samples = [sample(0)];
  global.gc?.();
  const retained = [sample(0)];
  let started = 0;
  let done = 0;
  let failures = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let fetching = Promise.resolve();
  const worker = async () => {
    while (started < start.total) {
      started += 1;
      // One request for more at a time, however many workers find the queue empty.
      fetching = fetching.then(next);
      const event = await fetching;
      try {
        const result = JSON.parse(
          await fn.handler(payloadOf(start.bucket, event), { ...start.context, requestId: randomUUID() }),
        );
        for (const entry of result.results) {
          const label = entry.state ?? entry.outcome;
          outcomes[label] = (outcomes[label] ?? 0) + 1;
        }
      } catch {
        failures += 1;
      }
      done += 1;
      if (done % start.sampleEvery === 0) samples.push(sample(done));
      if (done % start.gcEvery === 0 && global.gc) {
        global.gc();
        retained.push(sample(done));
      }
    }
  };
  await Promise.all(Array.from({ length: start.concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  return {
    type: 'done',
    samples,
    retained,
    outcomes,
    failures,
    wallMs: performance.now() - t0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
};

process.once('message', (start) => {
  run(start).then(
    (result) => process.send(result, () => process.exit(0)),
    (error) => process.send({ type: 'error', message: String(error?.stack) }, () => process.exit(1)),
  );
});
