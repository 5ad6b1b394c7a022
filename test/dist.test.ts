import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run-bundle.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('committed dist/', () => {
  it('is what the build makes from the current sources', { timeout: 180_000 }, () => {
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
    for (const f of files(join(ROOT, 'dist')).filter((f) => f.endsWith('index.js'))) {
      const pkg = JSON.parse(
        readFileSync(join(ROOT, 'dist', f.replace(/index\.js$/, 'package.json')), 'utf8'),
      );
      expect(pkg).toEqual({ type: 'module' });
    }
  });
});
