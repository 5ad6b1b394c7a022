import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRunner } from '../../src/core/runner.ts';

/** @actions/core is the reference: our runner must write exactly what it writes. */

const samples = ['plain', 'multi\nline\r\nvalue', '100% done', 'colon: and, comma', '%0A literal', ''];

function captureStdout(work: () => void): string {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

const withoutDelimiters = (text: string) => text.replace(/ghadelimiter_[0-9a-f-]+/g, 'DELIM');

afterEach(() => {
  process.exitCode = undefined;
});

describe('runner protocol equals @actions/core', () => {
  it.each(samples)('workflow commands for %j', (value) => {
    const ours = captureStdout(() => {
      const r = createRunner({});
      r.mask(value);
      r.error(value);
      r.warning(value);
      r.debug(value);
      r.info(value);
    });
    const theirs = captureStdout(() => {
      core.setSecret(value);
      core.error(value);
      core.warning(value);
      core.debug(value);
      core.info(value);
    });
    expect(ours).toBe(theirs);
  });

  it.each(samples)('GITHUB_OUTPUT and GITHUB_STATE file commands for %j', (value) => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-'));
    const env = { GITHUB_OUTPUT: join(dir, 'a'), GITHUB_STATE: join(dir, 'b') };
    for (const f of Object.values(env)) writeFileSync(f, '');
    const r = createRunner(env);
    r.setOutput('name', value);
    r.saveState('key', value);
    const ours = [readFileSync(env.GITHUB_OUTPUT, 'utf8'), readFileSync(env.GITHUB_STATE, 'utf8')];

    const saved = { out: process.env.GITHUB_OUTPUT, state: process.env.GITHUB_STATE };
    const ref = { GITHUB_OUTPUT: join(dir, 'c'), GITHUB_STATE: join(dir, 'd') };
    for (const f of Object.values(ref)) writeFileSync(f, '');
    process.env.GITHUB_OUTPUT = ref.GITHUB_OUTPUT;
    process.env.GITHUB_STATE = ref.GITHUB_STATE;
    try {
      core.setOutput('name', value);
      core.saveState('key', value);
    } finally {
      process.env.GITHUB_OUTPUT = saved.out;
      process.env.GITHUB_STATE = saved.state;
    }
    const theirs = [readFileSync(ref.GITHUB_OUTPUT, 'utf8'), readFileSync(ref.GITHUB_STATE, 'utf8')];
    expect(ours.map(withoutDelimiters)).toEqual(theirs.map(withoutDelimiters));
  });

  it('fail sets exit code 1 and writes one ::error:: line like setFailed', () => {
    const ours = captureStdout(() => createRunner({}).fail('Input x is bad\nsecond line'));
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    const theirs = captureStdout(() => core.setFailed('Input x is bad\nsecond line'));
    expect(ours).toBe(theirs);
    expect(ours.trim().split('\n')).toHaveLength(1);
  });

  it('reads saved state the way a post step receives it', () => {
    expect(createRunner({ STATE_locks: 'host-a' }).getState('locks')).toBe('host-a');
    expect(createRunner({}).getState('locks')).toBe('');
  });
});
