import { describe, expect, it } from 'vitest';
import { type AttemptKey, findEarlierAttempt, type HistoryApi } from '../../src/deploy/history.ts';
import type { Deployment, DeploymentStatus } from '../../src/providers/github/deployments.ts';

/** Which earlier deployment a re-run continues: table-driven over a history held in memory. */

const KEY: AttemptKey = {
  environment: 'production',
  runId: '4242',
  job: 'deploy',
  sha: 'a'.repeat(40),
  target: 'fly',
  targetName: 'web',
  operation: 'deploy',
  image: 'ghcr.io/acme/web@sha256:bb',
  release: undefined,
  tag: undefined,
};

const PAYLOAD = {
  deploy_id: '0d1e2f3a-0000-4000-8000-000000000000',
  tag: 'deploy_0d1e2f3a',
  target: 'fly',
  target_name: 'web',
  operation: 'deploy',
  image: 'ghcr.io/acme/web@sha256:bb',
  run_id: '4242',
  run_attempt: '1',
  job: 'deploy',
};

function history(records: { payload: Record<string, unknown>; states?: string[] }[]) {
  const calls: string[] = [];
  const deployments: Deployment[] = records.map((r, i) => ({
    id: i + 1,
    environment: 'production',
    ref: 'main',
    sha: 'a'.repeat(40),
    createdAt: '2026-01-01T00:00:00Z',
    payload: r.payload,
  }));
  const api: HistoryApi = {
    async list(environment, maxPages, filter) {
      calls.push(`list ${environment} pages=${maxPages} sha=${filter?.sha ?? '-'}`);
      return [...deployments].reverse();
    },
    async get(id) {
      return deployments.find((d) => d.id === id);
    },
    async statuses(id): Promise<DeploymentStatus[]> {
      calls.push(`statuses ${id}`);
      return (records[id - 1]!.states ?? [])
        .map((state, i) => ({ id: i + 1, state, description: '', createdAt: '' }))
        .reverse();
    },
  };
  return { api, calls };
}

describe('findEarlierAttempt', () => {
  const cases: [
    name: string,
    payload: Record<string, unknown>,
    states: string[],
    key: Partial<AttemptKey>,
    found: boolean,
  ][] = [
    ['unfinished deploy of this run, no status yet (create answer lost)', PAYLOAD, [], {}, true],
    ['failed rollout of this run', PAYLOAD, ['in_progress', 'failure'], {}, true],
    ['errored rollout of this run', PAYLOAD, ['in_progress', 'error'], {}, true],
    ['still in progress (the attempt was cancelled)', PAYLOAD, ['in_progress'], {}, true],
    ['succeeded: a re-run deploys anew', PAYLOAD, ['in_progress', 'success'], {}, false],
    ['superseded success', PAYLOAD, ['in_progress', 'success', 'inactive'], {}, false],
    ['another run', { ...PAYLOAD, run_id: '4241' }, [], {}, false],
    ['another job of the run', { ...PAYLOAD, job: 'deploy-worker' }, [], {}, false],
    ['outside a job on both sides', { ...PAYLOAD, job: undefined }, [], { job: undefined }, true],
    ['run id recorded as a number', { ...PAYLOAD, run_id: 4242 }, [], {}, true],
    ['recorded before run ids were', { ...PAYLOAD, run_id: undefined }, [], {}, false],
    ['another app', { ...PAYLOAD, target_name: 'api' }, [], {}, false],
    ['another target kind', { ...PAYLOAD, target: 'ssh' }, [], {}, false],
    ['a rollback, not a deploy', { ...PAYLOAD, operation: 'rollback' }, [], {}, false],
    ['another image', { ...PAYLOAD, image: 'ghcr.io/acme/web@sha256:cc' }, [], {}, false],
    ['not ours (no deploy_id)', { ...PAYLOAD, deploy_id: undefined }, [], {}, false],
    [
      'heroku build: no image on either side',
      { ...PAYLOAD, image: undefined, target: 'heroku' },
      [],
      { image: undefined, target: 'heroku' },
      true,
    ],
    [
      'heroku rollback to another release',
      { ...PAYLOAD, release: 'r1', operation: 'rollback' },
      [],
      { release: 'r2', operation: 'rollback' },
      false,
    ],
    [
      'rollback to the same recorded tag',
      { ...PAYLOAD, tag: 'deploy_aaaaaaaa', operation: 'rollback' },
      [],
      { tag: 'deploy_aaaaaaaa', operation: 'rollback' },
      true,
    ],
    [
      'rollback to another recorded tag',
      { ...PAYLOAD, tag: 'deploy_aaaaaaaa', operation: 'rollback' },
      [],
      { tag: 'deploy_bbbbbbbb', operation: 'rollback' },
      false,
    ],
  ];
  for (const [name, payload, states, key, found] of cases) {
    it(`${found ? 'continues' : 'does not continue'}: ${name}`, async () => {
      const { api } = history([{ payload, states }]);
      const r = await findEarlierAttempt(api, { ...KEY, ...key });
      expect(r?.deployment.id).toBe(found ? 1 : undefined);
    });
  }

  it('asks for one page of the commit in the environment, and only the newest match decides', async () => {
    const { api, calls } = history([
      { payload: PAYLOAD, states: ['in_progress', 'error'] },
      { payload: PAYLOAD, states: ['in_progress', 'success'] },
    ]);
    expect(await findEarlierAttempt(api, KEY)).toBeUndefined();
    expect(calls).toEqual([`list production pages=1 sha=${'a'.repeat(40)}`, 'statuses 2']);
  });

  it('hands back the deploy id and tag to continue with', async () => {
    const { api } = history([{ payload: PAYLOAD, states: ['in_progress', 'error'] }]);
    const r = await findEarlierAttempt(api, KEY);
    expect(r?.payload).toMatchObject({ deploy_id: PAYLOAD.deploy_id, tag: PAYLOAD.tag, run_attempt: '1' });
  });
});
