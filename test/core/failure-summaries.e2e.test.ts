import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoSecrets, FLY_TOKEN_VALUE, flyInputs, startFly } from '../config-update/fixtures.ts';
import { SECRETS } from '../deploy/fixtures.ts';
import { startHerokuWorld } from '../deploy/worlds.ts';
import { workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

/**
 * Every action that fails before writing its own summary writes one short one
 * (src/core/action.ts, src/core/failure-summary.ts): what failed and what was
 * done by then, redacted; an action that wrote its summary gets no second one.
 * Each case runs the committed bundle and reads GITHUB_STEP_SUMMARY.
 */

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const headings = (summary: string) => summary.split('\n').filter((line) => /^#{2,3} /.test(line));

describe('the summary of a run that failed early', () => {
  it('clone with a bad input: the input named, nothing sent or changed', async () => {
    const run = await runBundle('clone', {
      inputs: {
        'source-app': 'fetlife-prod',
        name: 'tati',
        'heroku-api-key': SECRETS.heroku,
        'dns-provider': 'carrier-pigeon',
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^Input 'dns-provider' /);
    expect(headings(run.summary)).toEqual(['## clone: failed']);
    expect(summaryTables(run.summary)).toEqual([[['error', run.errors[0]]]]);
    expect(run.summary).toContain('Nothing was sent or changed: the run stopped at its inputs.');
    expect(run.everything).not.toContain(SECRETS.heroku);
  });

  it('config-update with a refused token: the refusal, and the step it stopped at', async () => {
    const fly = await startFly();
    stops.push(() => fly.stop());
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, { 'fly-api-token': 'FlyV1 fm2_refusedToken0123456789abcdef' }),
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('fly-api-token');
    expect(headings(run.summary)).toEqual(['## config-update: failed']);
    const [error, steps] = summaryTables(run.summary);
    expect(error).toEqual([['error', run.errors[0]]]);
    expect(steps).toEqual([
      ['step', 'outcome'],
      ['discover', 'failed'],
    ]);
    expect(fly.server.requests.length).toBeGreaterThan(0);
    expect(fly.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(run.everything).not.toContain('refusedToken0123456789abcdef');
    expect(run.everything).not.toContain(FLY_TOKEN_VALUE);
    expectNoSecrets(run.everything);
  }, 30_000);

  it('deploy with a refused key: status failed, the heading of a deploy, the step it stopped at', async () => {
    const world = await startHerokuWorld();
    stops.push(() => world.stop());
    const run = await runBundle('deploy', {
      inputs: {
        ...world.inputs({ github: false }),
        'heroku-api-key': 'HRKU-refused-0123456789abcdef',
        'heroku-app': 'web-prod',
        'source-url': 'https://example.test/app.tgz',
        // An environment name may hold `<!--`: as markup it would hide the rest of the summary.
        environment: 'production <!--',
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('heroku-api-key');
    expect(run.outputs.status).toBe('failed');
    expect(headings(run.summary)).toEqual(['## deploy to heroku (production &lt;!--): failed']);
    expect(run.summary).not.toContain('<!--');
    const [error, steps] = summaryTables(run.summary);
    expect(error).toEqual([['error', run.errors[0]]]);
    expect(steps).toEqual([
      ['step', 'outcome'],
      ['target.observe', 'failed'],
    ]);
    expect(world.heroku.server.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(run.everything).not.toContain('refused-0123456789abcdef');
  }, 30_000);

  it('evidence with a checks file that is not there: status failed, the milestone in the heading', async () => {
    const ws = workspaceWith('checks: []\n', 'elsewhere.yml');
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates-pass', config: '.github/evidence.yml' },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.outputs.status).toBe('failed');
    expect(headings(run.summary)).toEqual(['## evidence for gates-pass: failed']);
    const [error, steps] = summaryTables(run.summary);
    expect(error).toEqual([['error', run.errors[0]]]);
    expect(steps).toEqual([
      ['step', 'outcome'],
      ['checks-file', 'failed'],
    ]);
  });

  it('evidence whose required check failed wrote its own summary: no second one', async () => {
    const ws = workspaceWith('target: t1\nchecks:\n  - id: disk\n    run: exit 1\n    required: true\n');
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates-pass' },
    });
    expect(run.code).toBe(1);
    expect(run.summary).toContain('gate failed');
    expect(run.summary).not.toContain(': failed\n');
    expect(headings(run.summary).filter((h) => h.startsWith('## '))).toEqual([]);
  });

  it('a summary file that cannot be written: a warning, and the run keeps its own outcome and error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-summary-dir-'));
    const env = { GITHUB_STEP_SUMMARY: join(dir, 'a-directory') };
    mkdirSync(env.GITHUB_STEP_SUMMARY);
    const checks = (exit: number) =>
      workspaceWith(`target: t1\nchecks:\n  - id: disk\n    run: exit ${exit}\n    required: true\n`);
    const inputs = { upload: 'false', milestone: 'gates-pass' };
    const [failed, passed, early] = await Promise.all([
      runBundle('evidence', { cwd: checks(1), env, inputs }),
      runBundle('evidence', { cwd: checks(0), env, inputs }),
      runBundle('evidence', { cwd: workspaceWith('checks: []\n', 'elsewhere.yml'), env, inputs }),
    ]);
    const warnings = (run: typeof failed) => run.stdout.split('\n').filter((l) => l.startsWith('::warning'));
    expect(failed.code).toBe(1);
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors[0]).toContain('disk');
    expect(failed.errors[0]).not.toContain('EISDIR');
    expect(passed.code).toBe(0);
    expect(passed.errors).toEqual([]);
    expect(passed.outputs.status).toBe('passed');
    expect(early.code).toBe(1);
    expect(early.errors).toHaveLength(1);
    expect(early.errors[0]).not.toContain('EISDIR');
    for (const run of [failed, passed, early]) {
      expect(warnings(run).filter((w) => w.includes('job summary not written'))).toHaveLength(1);
    }
  });

  it('evidence cancelled mid-check wrote its own summary: status failed all the same', async () => {
    const ws = workspaceWith(
      'target: t1\nchecks:\n  - id: slow\n    run: touch started; sleep 30\n    required: true\n',
    );
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates-pass' },
      // SIGINT once the check runs, as the runner's cancel sends it.
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (!existsSync(join(ws, 'started'))) return;
          clearInterval(poll);
          child.kill('SIGINT');
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^cancelled \(SIGINT\)/);
    expect(run.summary).toContain(': cancelled');
    expect(headings(run.summary).filter((h) => h.startsWith('## '))).toEqual([]);
    expect(run.outputs.status).toBe('failed');
  });
});
