/**
 * Bundles every action with @vercel/ncc into `<out>/<name>/index.js` (default
 * out: dist/), each with the `package.json` that marks the bundle as ESM and
 * the licences of what it bundles. The stale-dist test builds into a temp dir
 * and compares with the committed dist/.
 *
 *   node scripts/build.ts [out] [name ...]   (names: only these entries)
 *
 * Each ncc build runs in a process of its own and is mostly single-threaded, so
 * the entries are built side by side, one per CPU (two on a 2-core runner: half
 * the time). Each output is independent of the others and of the order.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pMap from 'p-map';

/**
 * Each step's entry records SIGINT/SIGTERM, then loads the action from a chunk (core/received-signals.ts).
 * The upload worker has none: it holds nothing, and its parent SIGKILLs it at a cancel or its deadline.
 */
const ENTRIES: Record<string, string> = {
  clone: 'src/clone/entry.ts',
  'config-update': 'src/config-update/entry.ts',
  deploy: 'src/deploy/entry.ts',
  'deploy/post': 'src/deploy/post-entry.ts',
  evidence: 'src/evidence/entry.ts',
  // The evidence upload runs in its own process, killed at its deadline (src/evidence/upload-process.ts).
  'evidence/upload-worker': 'src/evidence/upload-worker.ts',
};

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const only = process.argv.slice(3);
const selected = Object.entries(ENTRIES).filter(([name]) => only.length === 0 || only.includes(name));
const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
const run = promisify(execFile);

/** Builds one entry into a staging directory beside `out`; the caller swaps it in. */
async function build(name: string, entry: string): Promise<string> {
  const staging = mkdtempSync(join(out, '.building-'));
  const args = [
    ncc,
    'build',
    join(root, entry),
    '-o',
    staging,
    '--minify',
    '--license',
    'licenses.txt',
    '--quiet',
  ];
  try {
    const { stderr } = await run(process.execPath, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    if (stderr) process.stderr.write(stderr);
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
    return staging;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`ncc could not build ${name} (${entry}):\n${stdout}${stderr}`, { cause: error });
  }
}

/** Puts a built entry in place; nested entries (dist/deploy/post) already there are kept. */
function swapIn(name: string, staging: string): void {
  const target = join(out, name);
  for (const nested of Object.keys(ENTRIES).filter((n) => n.startsWith(`${name}/`))) {
    const inner = join(target, nested.slice(name.length + 1));
    if (existsSync(inner)) renameSync(inner, join(staging, nested.slice(name.length + 1)));
  }
  rmSync(target, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  renameSync(staging, target);
  process.stdout.write(`built ${name}\n`);
}

// Every entry is built before any is swapped in, so a failed build leaves dist/ as it was.
mkdirSync(out, { recursive: true });
const built: string[] = [];
try {
  const stagings = await pMap(
    selected,
    async ([name, entry]) => {
      const staging = await build(name, entry);
      built.push(staging);
      return staging;
    },
    { concurrency: Math.max(1, Math.min(selected.length, availableParallelism())), stopOnError: false },
  );
  // Parents before their nested entries (ENTRIES order): a parent's swap keeps what is nested in it.
  for (const [i, [name]] of selected.entries()) swapIn(name, stagings[i]!);
} catch (error) {
  for (const staging of built) rmSync(staging, { recursive: true, force: true });
  for (const e of error instanceof AggregateError ? error.errors : [error])
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
