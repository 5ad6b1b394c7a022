import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * Issue 12 §5 with a secret the user named: `redact: e` is redacted in every
 * text the action shows, but outputs the action composed itself (paths,
 * counts, the status word) and the JSONL log's structure stay intact.
 */
describe('evidence bundle: a one-letter named secret corrupts no output of ours', () => {
  it('keeps status, counts, file and log-file usable, and the log parseable', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: shows
    run: echo "the e here"
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'm', redact: 'e' },
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ status: 'passed', passed: '1', failed: '0' });
    expect(Number(run.outputs.redactions)).toBeGreaterThan(0);
    expect(existsSync(join(ws, run.outputs.file!))).toBe(true);
    expect(existsSync(run.outputs['log-file']!)).toBe(true);
    // Parsed by runBundle: each line is JSON with our keys; the values are redacted.
    expect(run.log.map((e) => e.step)).toContain('check');
    expect(run.log.every((e) => e.action === 'evidence')).toBe(true);
    expect(
      JSON.stringify(run.log.filter((e) => e.step !== undefined).map((e) => e.detail ?? '')),
    ).not.toMatch(/e/);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toContain('th[REDACTED:secret] [REDACTED:secret] h[REDACTED:secret]r[REDACTED:secret]');
  });
});
