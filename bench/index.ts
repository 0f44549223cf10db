/**
 * `npm run bench`: how close a registration comes to its floor, measured side by side in one run on this machine.
 * Writes docs/bench.md, docs/bench.json and docs/bench-latency.svg. Everything talks to 127.0.0.1 only.
 *
 * Arguments: `--only=cold,requests,events,burst` runs some sections; `--quick` runs small samples (for trying the
 * bench out); either writes to dist/bench/report/ instead of docs/. Environment: docs/bench.md, "Running it".
 *
 * The same bundle is the driver process (`--driver`) that runs the function itself; each role is required only when
 * it runs, so that the driver's memory is the function's and not the bench's.
 */
if (process.argv.includes('--driver')) {
  (require('./driver.ts') as typeof import('./driver.ts')).runDriver();
} else {
  (require('./main.ts') as typeof import('./main.ts')).main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
