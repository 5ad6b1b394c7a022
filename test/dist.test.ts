import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run-bundle.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('committed dist/', () => {
  it('is what the build makes from the current sources', { timeout: 480_000 }, () => {
    const fresh = mkdtempSync(join(tmpdir(), 'dist-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.ts'), fresh], { cwd: ROOT, stdio: 'pipe' });
    const committed = join(ROOT, 'dist');
    expect(files(committed)).toEqual(files(fresh));
    const stale = files(fresh).filter(
      (f) => !readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))),
    );
    expect(stale, 'run npm run build and commit dist/').toEqual([]);
  });

  it('marks every bundle as ESM', () => {
    const entries = files(join(ROOT, 'dist')).filter((f) => basename(f) === 'index.js');
    expect(entries).toEqual([
      'clone/index.js',
      'config-update/index.js',
      'deploy/index.js',
      'deploy/post/index.js',
      'evidence/index.js',
      'evidence/upload-worker/index.js',
    ]);
    for (const entry of entries) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'dist', dirname(entry), 'package.json'), 'utf8'));
      expect(pkg).toEqual({ type: 'module' });
    }
  });
});
