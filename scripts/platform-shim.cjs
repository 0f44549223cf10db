'use strict';
// Stands in for the `platform` package inside the function bundle (scripts/register-bundle.mjs). ali-oss reads one
// property of it, `description`, to build its User-Agent ("Node.js 20.20.2 on Linux 64-bit"), and platform.js gets
// there by running its whole browser-detection table at load: ≈ 6 ms of every cold start. On Linux, outside Electron
// and NW.js, the same string is computed here the way platform.js computes it for Node (test/unit/platform-shim.test.ts
// holds the two equal); any other property, or any other environment, loads the real module.
let real;
const load = () => {
  real ??= require('platform/platform.js');
  return real;
};

const plainNodeOnLinux = () =>
  process.platform === 'linux' && !process.browser && !process.versions.electron && !process.versions.nw;

const linuxDescription = () => {
  const version = /[\d.]+/.exec(process.version);
  const is64 = /\b(?:AMD|IA|Win|WOW|x86_|x)64\b/i.test(process.arch) && !/\bi686\b/i.test(process.arch);
  return `Node.js ${version ? version[0] : ''} on Linux${is64 ? ' 64-bit' : ''}`;
};

module.exports = new Proxy(
  {},
  {
    get(_target, property) {
      // Asked by CommonJS/ESM interop helpers: the real module is not an ES module either.
      if (property === '__esModule') return undefined;
      if (property === 'description' && plainNodeOnLinux()) return linuxDescription();
      return load()[property];
    },
  },
);
