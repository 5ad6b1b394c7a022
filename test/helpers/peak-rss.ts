import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the kernel and V8 counted for a bundle run, read when it exited. */
export interface ProcessUsage {
  /** Peak resident memory (kernel maxRSS), MB. */
  rssMb: number;
  /** User + system CPU time of the whole process, ms. */
  cpuMs: number;
  /** V8's young generation (both semi-spaces) at exit, MB: it grows with what survives its collections. */
  youngGenMb: number;
}

/**
 * Peak resident memory of a bundle run, as the kernel counted it: a preload
 * (NODE_OPTIONS=--import) writes `process.resourceUsage()` (maxRSS in KiB, CPU
 * time in µs) and the young generation's size to a file when the process exits,
 * whichever way it exits.
 */
export function peakRss(): { env: Record<string, string>; mb: () => number; usage: () => ProcessUsage } {
  const dir = mkdtempSync(join(tmpdir(), 'peak-rss-'));
  const file = join(dir, 'usage.json');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nimport { getHeapSpaceStatistics } from 'node:v8';\nprocess.on('exit', () => {\n  const u = process.resourceUsage();\n  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');\n  writeFileSync(${JSON.stringify(file)}, JSON.stringify({ maxRSS: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime, young: young?.space_size ?? 0 }));\n});\n`,
  );
  const usage = (): ProcessUsage => {
    const { maxRSS, cpuUs, young } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    return { rssMb: maxRSS! / 1024, cpuMs: cpuUs! / 1000, youngGenMb: young! / (1024 * 1024) };
  };
  return { env: { NODE_OPTIONS: `--import=${preload}` }, mb: () => usage().rssMb, usage };
}
