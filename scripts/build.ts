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
};

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const only = process.argv.slice(3);
const selected = Object.entries(ENTRIES).filter(([name]) => only.length === 0 || only.includes(name));
const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');

// Built beside the target and swapped in at the end, so a failed build leaves dist/ as it was.
mkdirSync(dirname(out), { recursive: true });
const staging = mkdtempSync(`${out}.building-`);
try {
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const dir = join(staging, name);
    mkdirSync(dir, { recursive: true });
    const args = [
      ncc,
      'build',
      join(root, entry),
      '-o',
      dir,
      '--minify',
      '--license',
      'licenses.txt',
      '--quiet',
    ];
    execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
    process.stdout.write(`built ${name}\n`);
  }
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  throw error;
}
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
