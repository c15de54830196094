import { join } from 'node:path';

/**
 * `BENCH_CPU_PROF_DIR` set: node flags that make a process write a CPU profile to `<dir>/<name>/`
 * when it exits (every app of the distributed stack, and the HTTP targets); none otherwise.
 */
export function cpuProfileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [];
}
