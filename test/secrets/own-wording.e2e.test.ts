import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * A short secret the user named (`redact: on`) is redacted wherever it came
 * from outside — check output, check ids and titles, inputs — and our own
 * wording around it stays as written: the evidence file and the job summary
 * are rendered from data redacted field by field (src/core/redacted-data.ts).
 */
describe('evidence bundle: a short named secret and our own wording', () => {
  it('redact: on leaves headings and field names whole, and redacts every outside "on"', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: lights
    title: switch on
    run: echo "turn on the lights"
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates-pass', redact: 'on' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l === '::add-mask::on')).toHaveLength(1);

    const text = evidenceFiles(ws)[0]!.text;
    for (const own of [
      '# Evidence: t1 — gates-pass',
      '| Milestone | gates-pass |',
      '| Checks file | .github/evidence.yml |',
      '| run checks on | the runner |',
      '| id | title | status | exit code / HTTP | duration | required |',
      '- duration: ',
      'Command:',
      '## Redactions',
    ])
      expect(text).toContain(own);
    expect(text).toContain('## lights — switch [REDACTED:secret]');
    expect(text).toContain('turn [REDACTED:secret] the lights');
    expect(text).not.toMatch(/\b(?:turn|switch) on\b/);

    expect(run.summary).toContain('### Evidence: t1 — gates-pass');
    expect(run.summary).toContain('<th>duration</th>');
    expect(run.summary).toContain('switch [REDACTED:secret]');
    expect(run.summary).not.toContain('switch on');
    expect(Number(run.outputs.redactions)).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('redact: ss leaves each check status and the counts as they are', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: c1
    run: echo "class passed"
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates', redact: 'ss' },
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ status: 'passed', passed: '1', failed: '0' });
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toContain('| c1 | c1 | ✅ passed |');
    expect(text).toContain('- status: passed');
    expect(text).toContain('cla[REDACTED:secret] pa[REDACTED:secret]ed');
    expect(run.summary).toContain('1/1 checks passed');
  }, 60_000);
});
