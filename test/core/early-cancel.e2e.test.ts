import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.ts';
import { statesOf } from '../deploy/fixtures.ts';
import { workspaceWith } from '../evidence/helpers.ts';
import { type ActionName, type BundleRun, ROOT, type RunOptions, runBundle } from '../helpers/run-bundle.ts';

/**
 * The runner's cancel (SIGINT, SIGTERM 7.5 s later; core/cancellation.ts) coming in a
 * step's first moments, while the committed bundle still loads: each entry records the
 * signal before the action's code is loaded (core/received-signals.ts), so the step ends
 * as any cancelled run does — exit 1, one `::error::`, the failure summary and outputs —
 * and sends nothing. The signal is sent by the process itself at a named moment
 * (helpers/signal-at.ts), not after a delay: a signal sent as the child is spawned would
 * land in node's own start-up, before any code of ours can listen.
 */

const SIGNAL_AT = join(ROOT, 'test', 'helpers', 'signal-at.ts');
const CANCELLED_EARLY = (signal: string) => `cancelled (${signal}): before anything was sent or changed`;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.stop());

const requestCount = () => sandbox.servers.reduce((n, s) => n + s.requests.length, 0);

/** Runs `action` with `signal` sent at `at` (helpers/signal-at.ts); counts what reached any fake. */
async function cancelledRun(
  action: ActionName,
  at: string,
  signal: 'SIGINT' | 'SIGTERM',
  options: RunOptions,
): Promise<{ run: BundleRun; requests: number; exit: string | number | null }> {
  const before = requestCount();
  let exit: string | number | null = null;
  const run = await runBundle(action, {
    ...options,
    env: { ...options.env, NODE_OPTIONS: `--import=${SIGNAL_AT}`, SIGNAL_AT: at, SIGNAL_NAME: signal },
    onSpawn: (child) => child.on('exit', (code, name) => (exit = name ?? code)),
  });
  return { run, requests: requestCount() - before, exit };
}

/** Inputs that would send requests to the sandbox at once, and the failure summary's heading. */
const runs = (s: Sandbox): Record<ActionName, { options: RunOptions; title: string }> => ({
  clone: {
    options: {
      inputs: {
        name: 'tati',
        'source-app': 'fetlife-prod',
        'heroku-api-key': s.tokens.heroku,
        'heroku-api-url': s.urls.heroku,
        domain: 'shibari.photo',
        'dns-token': s.tokens.hetzner,
        'hetzner-api-url': s.urls.hetzner,
      },
    },
    title: 'clone fetlife-prod → fetlife-prod-tati',
  },
  'config-update': {
    options: { inputs: { target: 'kamal', urls: s.urls.kamal.map((u) => `${u}/update`).join('\n') } },
    title: 'config-update',
  },
  deploy: {
    options: {
      inputs: {
        target: 'heroku',
        'heroku-app': 'web-prod',
        'heroku-api-key': s.tokens.heroku,
        'heroku-api-url': s.urls.heroku,
        'promote-from': 'web-staging',
        'github-token': s.tokens.github,
        'github-api-url': s.urls.github,
      },
    },
    title: 'deploy to heroku (production)',
  },
  evidence: {
    options: {
      inputs: { milestone: 'gates-pass', upload: 'false' },
      cwd: workspaceWith(`
target: t1
checks:
  - id: up
    http: ${s.urls.flyApp}/
`),
    },
    title: 'evidence for gates-pass',
  },
});

/** Failure outputs each action sets (ActionDefinition.failureOutputs in its main.ts). */
const FAILURE_OUTPUTS: Record<ActionName, Record<string, string>> = {
  clone: {},
  'config-update': {},
  deploy: { status: 'failed' },
  evidence: { status: 'failed' },
};

function expectCancelledEarly(
  result: Awaited<ReturnType<typeof cancelledRun>>,
  action: ActionName,
  signal: string,
  title = runs(sandbox)[action].title,
): void {
  const { run, requests, exit } = result;
  expect(exit).toBe(1);
  expect(run.stderr).toBe('');
  expect(run.errors).toEqual([CANCELLED_EARLY(signal)]);
  expect(run.summary).toMatch(new RegExp(`^## ${asPattern(title)}: cancelled, failed$`, 'm'));
  expect(run.summary).toContain(CANCELLED_EARLY(signal));
  expect(run.summary).toContain('Nothing was sent or changed: the run stopped at its inputs.');
  expect(run.outputs).toMatchObject(FAILURE_OUTPUTS[action]);
  expect(run.outputs['log-file']).toMatch(/\.jsonl$/);
  expect(run.log.at(-1)).toMatchObject({ step: 'cancelled', outcome: 'failed' });
  expect(requests).toBe(0);
}

const asPattern = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a cancel while the bundle loads ends the step as a cancel does, before any request', () => {
  it.each(['clone', 'config-update', 'deploy', 'evidence'] as const)(
    '%s: SIGINT as its first chunk loads',
    async (action) => {
      const result = await cancelledRun(action, 'chunk', 'SIGINT', runs(sandbox)[action].options);
      expectCancelledEarly(result, action, 'SIGINT');
    },
  );

  it('deploy: SIGTERM while its code is evaluated', async () => {
    const result = await cancelledRun('deploy', 'require', 'SIGTERM', runs(sandbox).deploy.options);
    expectCancelledEarly(result, 'deploy', 'SIGTERM');
  });

  it('config-update: SIGINT while its inputs are read and validated', async () => {
    const result = await cancelledRun(
      'config-update',
      'input:6',
      'SIGINT',
      runs(sandbox)['config-update'].options,
    );
    expectCancelledEarly(result, 'config-update', 'SIGINT');
  });

  it('a cancel wins over a bad input: the user stopped the run', async () => {
    const { options } = runs(sandbox).deploy;
    const result = await cancelledRun('deploy', 'chunk', 'SIGINT', {
      inputs: { ...options.inputs, 'health-timeout': 'forever' },
    });
    // Refused inputs give no settings to name the run by: the heading is the action's name.
    expectCancelledEarly(result, 'deploy', 'SIGINT', 'deploy');
  });
});

describe('the post step cancelled while it loads', () => {
  it('still does its clean-up: the deployment the main step left in progress gets its final status', async () => {
    const { github } = sandbox;
    const api = `${sandbox.urls.github}/repos/acme/fleet/deployments`;
    const headers = { authorization: `Bearer ${sandbox.tokens.github}`, 'content-type': 'application/json' };
    const created = await fetch(api, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ref: 'a'.repeat(40), environment: 'production', auto_merge: false }),
    });
    const { id } = (await created.json()) as { id: number };
    await fetch(`${api}/${id}/statuses`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ state: 'in_progress' }),
    });
    const { run, exit } = await cancelledRun('deploy', 'require', 'SIGINT', {
      entry: 'post',
      inputs: runs(sandbox).deploy.options.inputs,
      state: { deployment: String(id) },
    });
    expect(exit).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.errors).toEqual([]);
    expect(statesOf(github, id)).toEqual(['in_progress', 'error']);
    expect(sandbox.violations()).toEqual([]);
  });
});
