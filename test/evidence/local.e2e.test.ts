import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, MILESTONES, workspaceWith } from './helpers.ts';

const BASE = { upload: 'false', milestone: 'gates-pass' };

describe('evidence bundle: local run checks', () => {
  it('runs every check, writes the file with table and sections, sets outputs', async () => {
    const ws = workspaceWith(`
target: hetzner-staging
milestones: ${MILESTONES}
checks:
  - id: docker
    title: Docker and Compose versions
    run: echo "Docker version 27.1.1"; echo "to stderr" >&2; echo after
  - id: disk
    run: df -h / >/dev/null && echo disk-ok
    required: true
  - id: flaky
    title: optional thing
    run: echo nope; exit 3
  - id: later
    run: echo never
    milestones: [health-passes]
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('passed');
    expect(run.outputs.passed).toBe('2');
    expect(run.outputs.failed).toBe('1');
    // The step passes, and the check that did not pass is an annotation on the run (issue 20).
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::warning'))).toEqual([
      '::warning::1 of 3 checks did not pass, none of them required: flaky (exit 3)',
    ]);
    expect(run.outputs.file).toMatch(/^docs\/evidence\/\d{8}T\d{6}Z-hetzner-staging-gates-pass\.md$/);
    const [file] = evidenceFiles(ws);
    expect(file).toBeDefined();
    const text = file!.text;
    expect(text).toContain('# Evidence: hetzner-staging — gates-pass');
    expect(text).toContain('https://github.com/acme/fleet/actions/runs/4242');
    expect(text).toContain('a'.repeat(40));
    expect(text).toMatch(/\| docker \| Docker and Compose versions \| ✅ passed \| exit 0 \|/);
    expect(text).toMatch(/\| flaky \| optional thing \| ⚠️ failed \| exit 3 \|/);
    // stderr interleaved where it was written
    expect(text).toContain('Docker version 27.1.1\nto stderr\nafter');
    expect(text).not.toContain('never');
    expect(text).toContain('## Redactions');
    // one progress line per finished check
    expect(run.stdout.match(/^\[\d\/3 +\d+%\]/gm)).toHaveLength(3);
    expect(run.log.filter((e) => e.step === 'check')).toHaveLength(3);
  });

  it('kills a hanging check at its timeout and the file says so', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: hang
    run: echo started; sleep 30; echo never-printed
    timeout: 1
  - id: quick
    run: echo ok
`);
    const started = performance.now();
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toMatch(/\| hang \| hang \| ⚠️ timed out \| — \|/);
    expect(text).toContain('timed out after 1 s: the check was killed');
    expect(text).toContain('started');
    expect(text).not.toMatch(/^never-printed$/m);
  });

  it('fails the step on a failed required check, after writing the file', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: disk
    run: echo full; exit 1
    required: true
  - id: other
    run: echo ok
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('required check disk did not pass');
    expect(run.stdout).not.toContain('::warning');
    expect(run.outputs.status).toBe('failed');
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toContain('failed: required disk did not pass');
    expect(run.summary).toContain('gate failed');
  });

  it('cuts long output to max-lines after redaction, with a note', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: long
    run: for i in $(seq 1 50); do echo "line $i"; done
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: { ...BASE, 'max-lines': '10' } });
    expect(run.code).toBe(0);
    const text = evidenceFiles(ws)[0]!.text;
    expect(text).toContain('line 5\n[… 40 lines cut here (lines 6-45 of 50); max-lines is 10 …]\nline 46');
    expect(text).not.toContain('line 20\n');
  });

  it('fences output longer than any backtick run in it', async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: ticks
    run: printf '%s\\n' '\`\`\`\`\` five'
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: BASE });
    expect(run.code).toBe(0);
    expect(evidenceFiles(ws)[0]!.text).toContain('``````text\n````` five\n``````');
  });

  it('dry-run lists the checks for the milestone and runs none', async () => {
    const ws = workspaceWith(`
target: t1
milestones: ${MILESTONES}
checks:
  - id: marker
    run: touch ran-marker
  - id: health
    http: http://127.0.0.1:9/up
    milestones: [health-passes]
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { milestone: 'gates-pass', 'dry-run': 'true' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would run marker: run on the runner: touch ran-marker');
    expect(run.stdout).toContain('not for gates-pass: health');
    expect(evidenceFiles(ws)).toEqual([]);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${ws}/ran-marker`)).toBe(false);
    expect(run.summary).toContain('1 check would run');
  });

  it('an unknown milestone is an input error naming the allowed ones', async () => {
    const ws = workspaceWith(`
target: t1
milestones: [a, b]
checks:
  - id: x
    run: touch ran-marker
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: { ...BASE, milestone: 'c' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining("Input 'milestone' must be one of the milestones")]);
    expect(run.errors[0]).toContain('a, b');
    expect(evidenceFiles(ws)).toEqual([]);
  });

  it('a bad checks file fails with one error naming file, check and field', async () => {
    const ws = workspaceWith(`
checks:
  - id: x
    run: echo
    timeout: soon
`);
    const run = await runBundle('evidence', { cwd: ws, inputs: { ...BASE, target: 't' } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      "Checks file .github/evidence.yml: check 'x' field `timeout` must be a number of seconds of at least 1 and at most 21600",
    ]);
  });
});
