import { spawn } from 'node:child_process';

/** Shared pieces of the benchmarks: timing a child process and summarising samples. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function timeProcess(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - started));
  });
}

export interface BenchResult {
  name: string;
  /** The figure the goal is about. */
  ratio: number;
  goal: string;
  met: boolean;
  details: Record<string, string | number>;
}

export function report(result: BenchResult): void {
  const details = Object.entries(result.details)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stdout.write(
    `${result.met ? 'MET ' : 'MISS'} ${result.name}: ratio ${result.ratio.toFixed(3)} (goal ${result.goal}) ${details}\n`,
  );
}
