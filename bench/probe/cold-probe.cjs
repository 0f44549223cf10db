'use strict';
/**
 * One cold start, in a fresh process: `node cold-probe.cjs <module | ->`.
 *
 * Prints one JSON line: `boot` (ms from the process's time origin to this script's first line: Node's own start),
 * `load` (require of the module), `init` (its `initialize(context)`), `rss` afterwards. With `-` nothing is loaded:
 * a bare `node` start. Plain CommonJS with no dependencies, so that nothing but the module under test is loaded.
 */
const boot = performance.now();
const target = process.argv[2];

const context = {
  requestId: 'cold-probe',
  credentials: {
    accessKeyId: 'STS.coldprobe',
    accessKeySecret: 'cold-probe-secret',
    securityToken: 'cold-probe-token',
  },
  function: {
    name: 'register',
    handler: 'index.handler',
    memory: 256,
    timeout: 60,
    initializer: 'index.initialize',
    initializationTimeout: 10,
  },
  service: { name: 'algolib', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
  region: 'cn-shanghai',
  accountId: '1234567890123456',
};

let load = 0;
let init = 0;
if (target && target !== '-') {
  const t0 = performance.now();
  const loaded = require(target);
  const t1 = performance.now();
  loaded.initialize(context);
  const t2 = performance.now();
  load = t1 - t0;
  init = t2 - t1;
}
process.stdout.write(`${JSON.stringify({ boot, load, init, rss: process.memoryUsage().rss })}\n`);
