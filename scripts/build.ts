/**
 * Bundles every action with @vercel/ncc into `<out>/<name>/index.js` (default
 * out: dist/), each with the `package.json` that marks the bundle as ESM and
 * the licences of what it bundles. The stale-dist test builds into a temp dir
 * and compares with the committed dist/.
 *
 *   node scripts/build.ts [out] [name ...]   (names: only these entries)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ENTRIES: Record<string, string> = {
  clone: 'src/clone/main.ts',
  'config-update': 'src/config-update/main.ts',
  deploy: 'src/deploy/main.ts',
  'deploy/post': 'src/deploy/post.ts',
  evidence: 'src/evidence/main.ts',
  // The evidence upload runs in its own process, killed at its deadline (src/evidence/upload-process.ts).
  'evidence/upload-worker': 'src/evidence/upload-worker.ts',
};

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const only = process.argv.slice(3);
const selected = Object.entries(ENTRIES).filter(([name]) => only.length === 0 || only.includes(name));
const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');

// Each entry is built beside its target and swapped in, so a failed build leaves dist/ as it was.
mkdirSync(out, { recursive: true });
for (const [name, entry] of selected) {
  const staging = mkdtempSync(join(out, '.building-'));
  try {
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
    execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
    const target = join(out, name);
    // Nested entries (dist/deploy/post, dist/evidence/upload-worker) are entries of their own: keep them
    // when their parent is rebuilt.
    for (const nested of Object.keys(ENTRIES).filter((n) => n.startsWith(`${name}/`))) {
      const inner = join(target, nested.slice(name.length + 1));
      if (existsSync(inner)) renameSync(inner, join(staging, nested.slice(name.length + 1)));
    }
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staging, target);
    process.stdout.write(`built ${name}\n`);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}
