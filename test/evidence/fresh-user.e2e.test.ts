import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { utcStamp } from '../../src/evidence/evidence-file.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { workspaceWith } from './helpers.ts';

/** What a fresh user met trying the committed bundle (issue 14 review), each through the bundle. */

const BASE = { upload: 'false', milestone: 'm1' };
const CHECKS = 'target: t1\nchecks:\n  - id: ok\n    run: echo ok\n';

describe('evidence bundle: config that is not a regular file', () => {
  it.each([
    ['a FIFO', 'fifo'],
    ['a device', '/dev/zero'],
  ])('%s is refused naming config, without reading it', async (_, config) => {
    const ws = workspaceWith(CHECKS);
    if (config === 'fifo') execFileSync('mkfifo', [join(ws, 'fifo')]);
    const run = await runBundle('evidence', { cwd: ws, inputs: { ...BASE, config }, timeoutMs: 20_000 });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/config/);
    expect(run.errors[0]).toContain('not a regular file');
  });

  it('a checks file past the size cap is refused naming config', async () => {
    const ws = workspaceWith(`${CHECKS}# ${'x'.repeat(1024 * 1024)}\n`);
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/config.*at most 1048576 bytes/);
  });
});

describe('evidence bundle: require-previous-ref is a branch name', () => {
  it.each([
    ['HEAD', 'is not a branch'],
    ['/main', 'git does not allow it'],
    ['main/', 'git does not allow it'],
    ['a//b', 'git does not allow it'],
    ['.hidden', 'git does not allow it'],
    ['x.lock', 'git does not allow it'],
    ['a..b', 'git does not allow it'],
    ['-x', 'git does not allow it'],
    ['refs/tags/v1.0', 'not a branch'],
  ])('%s is refused before any request, also with require-previous false', async (ref, problem) => {
    const ws = workspaceWith(CHECKS);
    for (const requirePrevious of ['true', 'false']) {
      const run = await runBundle('evidence', {
        cwd: ws,
        inputs: {
          ...BASE,
          'require-previous': requirePrevious,
          'require-previous-ref': ref,
          'github-token': 'ghs_x',
          // Nothing listens here: a request would show as a connection error, not this input error.
          'github-api-url': 'http://127.0.0.1:1',
        },
      });
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toMatch(/require-previous-ref/);
      expect(run.errors[0]).toContain(problem);
      expect(readdirSync(ws)).not.toContain('docs');
    }
  });

  it('a tag run without require-previous-ref is refused: gates work on branches', async () => {
    const ws = workspaceWith(CHECKS);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: {
        ...BASE,
        'require-previous': 'true',
        'github-token': 'ghs_x',
        'github-api-url': 'http://127.0.0.1:1',
      },
      env: {
        GITHUB_REF: 'refs/tags/v1.0',
        GITHUB_REF_NAME: 'v1.0',
        GITHUB_REF_TYPE: 'tag',
        GITHUB_HEAD_REF: '',
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/require-previous-ref.*is required on a tag/);
  });
});

describe('evidence bundle: the evidence file', () => {
  it('never replaces an earlier file of the same second: the new one gets -2', async () => {
    const ws = workspaceWith(CHECKS);
    const dir = join(ws, 'docs', 'evidence');
    mkdirSync(dir, { recursive: true });
    // Files of this second and the next few stand for earlier runs the new run must not overwrite.
    const now = Date.now();
    const earlier = Array.from({ length: 30 }, (_, i) => `${utcStamp(new Date(now + i * 1000))}-t1-m1.md`);
    for (const name of earlier) writeFileSync(join(dir, name), 'earlier run\n');
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(run.errors).toEqual([]);
    expect(run.outputs.file).toMatch(/^docs\/evidence\/\d{8}T\d{6}Z-t1-m1-2\.md$/);
    for (const name of earlier) expect(readFileSync(join(dir, name), 'utf8')).toBe('earlier run\n');
    expect(readFileSync(join(ws, run.outputs.file!), 'utf8')).toContain('# Evidence: t1');
    expect(readdirSync(dir).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('output-dir outside the workspace: the file output is the absolute path, not a ../ path', async () => {
    const ws = workspaceWith(CHECKS);
    const outside = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
    for (const outputDir of [outside, `../${outside.split('/').pop()}`]) {
      const run = await runBundle('evidence', { cwd: ws, inputs: { ...BASE, 'output-dir': outputDir } });
      expect(run.errors).toEqual([]);
      expect(run.outputs.file!.startsWith(`${outside}/`)).toBe(true);
      expect(readFileSync(run.outputs.file!, 'utf8')).toContain('# Evidence: t1');
    }
  });
});
