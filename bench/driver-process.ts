/** The parent's side of the driver process (driver.ts): fork, one request, one answer, bounded in time. */
import { fork } from 'node:child_process';
import type { DriverRequest } from './driver.ts';

/** Forks this bundle as a driver, sends one request, and waits (bounded) for its answer. */
export const inDriver = <R>(request: DriverRequest, execArgv: string[], timeoutMs: number) =>
  new Promise<{ result: R; lines: number }>((resolve, reject) => {
    // BENCH_PROFILE=<dir>: the driver writes a CPU profile of its run there (for the explanations in docs/bench.md).
    const profile = process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [];
    const child = fork(__filename, ['--driver'], {
      execArgv: [...execArgv, ...profile],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let lines = 0;
    // The function's log lines: read (as FC's log pipe would be) and counted.
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) lines += 1;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Expected the driver to answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (message: R | { type: 'error'; message: string }) => {
      clearTimeout(timer);
      if ((message as { type: string }).type === 'error') reject(new Error((message as { message: string }).message));
      else child.once('exit', () => resolve({ result: message as R, lines }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`Expected the driver to exit 0, got ${code}`));
    });
    child.send(request);
  });
