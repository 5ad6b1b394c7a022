import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import {
  checkOutputDir,
  fsProblem,
  makeOutputDir,
  readChecksText,
} from '../../src/evidence/workspace-paths.ts';

/** `config` and `output-dir` as a workspace may hold them; errors name the input, in words. */

const ws = mkdtempSync(join(tmpdir(), 'evidence-paths-'));
mkdirSync(join(ws, '.github'));
writeFileSync(join(ws, '.github', 'evidence.yml'), 'checks: []\n');
mkdirSync(join(ws, 'docs'));
afterAll(() => rmSync(ws, { recursive: true, force: true }));

function refusal(call: () => unknown): InputError {
  try {
    call();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const RAW = /E[A-Z]{3,}|\bat .*:\d+/;

describe('fsProblem', () => {
  it.each([
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['EROFS', 'the file system is read-only'],
    ['ENOSPC', 'no space left on the device'],
    ['ENOTDIR', 'a part of the path is a file, not a directory'],
    ['EISDIR', 'it is a directory'],
    ['EWHATEVER', 'the system refused it'],
  ])('%s', (code, words) => expect(fsProblem(Object.assign(new Error(code), { code }))).toBe(words));
});

describe('config', () => {
  it('reads a file relative to the workspace', () => {
    expect(readChecksText(ws, '.github/evidence.yml')).toBe('checks: []\n');
  });

  it.each([
    ['a directory', '.github', 'which is a directory; give the path of the checks file'],
    ['missing', '.github/nope.yml', 'which does not exist in the workspace'],
    ['below a file', '.github/evidence.yml/x.yml', 'which does not exist in the workspace'],
  ])('%s', (_, config, problem) => {
    const error = refusal(() => readChecksText(ws, config));
    expect(error.input).toBe('config');
    expect(error.message).toContain(problem);
    expect(error.message).not.toMatch(RAW);
  });
});

describe('output-dir', () => {
  it('takes an existing directory or one that can be made, leaving nothing behind', () => {
    expect(checkOutputDir(ws, 'docs')).toBe(join(ws, 'docs'));
    expect(checkOutputDir(ws, 'docs/evidence/2026')).toBe(join(ws, 'docs', 'evidence', '2026'));
    expect(existsSync(join(ws, 'docs', 'evidence'))).toBe(false);
    expect(readdirSync(join(ws, 'docs'))).toEqual([]);
  });

  it('makes the directory one level at a time', () => {
    makeOutputDir(join(ws, 'docs', 'a', 'b'), 'docs/a/b');
    expect(existsSync(join(ws, 'docs', 'a', 'b'))).toBe(true);
    makeOutputDir(join(ws, 'docs', 'a', 'b'), 'docs/a/b');
  });

  it.each([
    ['a file', '.github/evidence.yml', 'which is a file; give a directory'],
    ['below a file', '.github/evidence.yml/out', 'on its path is a file, so no directory can be made there'],
    // /sys refuses new entries to every user, root included.
    ['not writable', '/sys/evidence', 'where no file can be written (permission denied)'],
  ])('%s', (_, outputDir, problem) => {
    const error = refusal(() => checkOutputDir(ws, outputDir));
    expect(error.input).toBe('output-dir');
    expect(error.message).toContain(problem);
    expect(error.message).not.toMatch(RAW);
  });

  it('a directory that cannot be made is named too', () => {
    const error = refusal(() => makeOutputDir('/sys/evidence/x', '/sys/evidence/x'));
    expect(error.message).toBe(
      `Input 'output-dir' names "/sys/evidence/x", which cannot be made (permission denied)`,
    );
  });
});
