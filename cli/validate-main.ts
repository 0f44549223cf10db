/**
 * `algolib validate` as one CommonJS file (dist/cli/validate.cjs), which bin/algolib.js runs when the first argument
 * is `validate`: release jobs and pre-commit hooks run it many times, and one CommonJS file starts faster than the ES
 * modules' fourteen (no ES module loader, one file to read and compile; docs/bench.md §1b). The same dispatch as
 * cli/index.ts, so `validate` says the same whichever file runs it.
 */
import { runCli } from './main.ts';
import { validate } from './validate.ts';

runCli(async (name) => {
  if (name !== 'validate') throw new Error(`Expected dist/cli/validate.cjs to run validate, got ${name}`);
  return validate;
});
