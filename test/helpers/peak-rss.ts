import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Peak resident memory of a bundle run, as the kernel counted it: a preload
 * (NODE_OPTIONS=--import) writes `process.resourceUsage().maxRSS` (KiB) to a
 * file when the process exits, whichever way it exits.
 */
export function peakRss(): { env: Record<string, string>; mb: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'peak-rss-'));
  const file = join(dir, 'max-rss');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(file)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  return {
    env: { NODE_OPTIONS: `--import=${preload}` },
    mb: () => Number(readFileSync(file, 'utf8')) / 1024,
  };
}
