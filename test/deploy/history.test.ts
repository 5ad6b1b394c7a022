import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptKey,
  findById,
  findByTag,
  findEarlierAttempt,
  findPrevious,
  type HistoryApi,
} from '../../src/deploy/history.ts';
import {
  describeIdentity,
  type IdentityMatch,
  matchIdentity,
  type TargetIdentity,
} from '../../src/deploy/identity.ts';
import type { Deployment, DeploymentStatus } from '../../src/providers/github/deployments.ts';

/** Which earlier deployment a re-run continues: table-driven over a history held in memory. */

const KEY: AttemptKey = {
  environment: 'production',
  runId: '4242',
  job: 'deploy',
  sha: 'a'.repeat(40),
  identity: { kind: 'fly', name: 'web' },
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

/** A status as `state` or `state: description` (e.g. `failure: rolled back: m2 unhealthy`). */
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
        .map((text, i) => {
          const [state, ...rest] = text.split(': ');
          return { id: i + 1, state: state!, description: rest.join(': '), createdAt: '' };
        })
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
    [
      'the whole app, asked for by one process group',
      PAYLOAD,
      [],
      { identity: { kind: 'fly', name: 'web/worker' } },
      false,
    ],
    ['recorded without a target name', { ...PAYLOAD, target_name: undefined }, [], {}, false],
    ['another target kind', { ...PAYLOAD, target: 'ssh' }, [], {}, false],
    ['a rollback, not a deploy', { ...PAYLOAD, operation: 'rollback' }, [], {}, false],
    ['another image', { ...PAYLOAD, image: 'ghcr.io/acme/web@sha256:cc' }, [], {}, false],
    ['not ours (no deploy_id)', { ...PAYLOAD, deploy_id: undefined }, [], {}, false],
    [
      'heroku build: no image on either side',
      { ...PAYLOAD, image: undefined, target: 'heroku' },
      [],
      { image: undefined, identity: { kind: 'heroku', name: 'web' } },
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

const SMOOTH: TargetIdentity = { kind: 'fly', name: 'smooth' };
const OK = ['in_progress', 'success: deployed deploy_x'];
const ROLLED_BACK = ['in_progress', 'failure: rolled back: m1: checks not passing'];

/** One deployment, as action-deploy records it; `name: null` leaves the target name out (older records). */
function rec(
  name: string | null,
  image: string,
  states: string[] = OK,
  extra: Record<string, unknown> = {},
): { payload: Record<string, unknown>; states: string[] } {
  return {
    payload: {
      deploy_id: `id-${image}`,
      tag: `deploy_${image.padEnd(8, '0')}`,
      target: 'fly',
      ...(name === null ? {} : { target_name: name }),
      operation: 'deploy',
      image,
      ...extra,
    },
    states,
  };
}

describe('matchIdentity', () => {
  const cases: [string, Record<string, unknown>, TargetIdentity, IdentityMatch][] = [
    ['same fly app', { target: 'fly', target_name: 'smooth' }, SMOOTH, 'same'],
    ['another fly app', { target: 'fly', target_name: 'other' }, SMOOTH, 'other'],
    ['heroku app of the same name', { target: 'heroku', target_name: 'smooth' }, SMOOTH, 'other'],
    [
      'a process group, asked for the whole app',
      { target: 'fly', target_name: 'smooth/worker' },
      SMOOTH,
      'other',
    ],
    [
      'the whole app, asked for one of its process groups',
      { target: 'fly', target_name: 'smooth' },
      { kind: 'fly', name: 'smooth/worker' },
      'same',
    ],
    [
      'another process group',
      { target: 'fly', target_name: 'smooth/web' },
      { kind: 'fly', name: 'smooth/worker' },
      'other',
    ],
    [
      'an app whose name starts alike',
      { target: 'fly', target_name: 'smoothie' },
      { kind: 'fly', name: 'smooth/worker' },
      'other',
    ],
    [
      'another ssh service on the same hosts',
      { target: 'ssh', target_name: 'api@10.0.0.1:22' },
      { kind: 'ssh', name: 'web@10.0.0.1:22' },
      'other',
    ],
    [
      'the same ssh service on another host set',
      { target: 'ssh', target_name: 'web@10.0.0.1:22,10.0.0.2:22' },
      { kind: 'ssh', name: 'web@10.0.0.1:22' },
      'other',
    ],
    [
      'the same ssh service and DigitalOcean tag',
      { target: 'ssh', target_name: 'web@tag:shop' },
      { kind: 'ssh', name: 'web@tag:shop' },
      'same',
    ],
    ['no target name, same kind', { target: 'fly' }, SMOOTH, 'unknown'],
    ['no target at all', {}, SMOOTH, 'unknown'],
    ['no target name, another kind', { target: 'ssh' }, SMOOTH, 'other'],
    ['an empty target name', { target: 'fly', target_name: '' }, SMOOTH, 'unknown'],
  ];
  for (const [name, payload, wanted, expected] of cases)
    it(`${expected}: ${name}`, () => expect(matchIdentity(payload, wanted)).toBe(expected));
});

describe('describeIdentity', () => {
  const cases: [TargetIdentity, string][] = [
    [SMOOTH, 'fly app smooth'],
    [{ kind: 'fly', name: 'smooth/worker' }, 'fly app smooth (process group worker)'],
    [{ kind: 'heroku', name: 'shop-eu' }, 'heroku app shop-eu'],
    [{ kind: 'ssh', name: 'web@10.0.0.1:22,10.0.0.2:2222' }, 'ssh service web on 10.0.0.1:22, 10.0.0.2:2222'],
    [{ kind: 'ssh', name: 'web@tag:shop' }, 'ssh service web on the DigitalOcean hosts tagged shop'],
  ];
  for (const [identity, words] of cases)
    it(words, () => expect(String(describeIdentity(identity))).toBe(words));
});

describe('findPrevious: the version that ran before the latest deploy of this target', () => {
  const cases: [
    name: string,
    records: ReturnType<typeof rec>[],
    identity: TargetIdentity,
    expected: { latest?: string; previous?: string; before?: string; unidentified?: number },
  ][] = [
    [
      'another app deployed in between (issue 13)',
      [rec('smooth', 'a'), rec('other', 'c'), rec('smooth', 'b')],
      SMOOTH,
      { latest: 'b', previous: 'a' },
    ],
    ['only another app is recorded', [rec('other', 'a'), rec('other', 'b')], SMOOTH, {}],
    [
      'latest failed and was rolled back: previous is what runs now (issue 20)',
      [rec('smooth', 'v10'), rec('smooth', 'v11'), rec('smooth', 'v12', ROLLED_BACK)],
      SMOOTH,
      { latest: 'v12', previous: 'v11', before: 'v10' },
    ],
    [
      'latest errored before changing anything',
      [
        rec('smooth', 'v10'),
        rec('smooth', 'v11'),
        rec('smooth', 'v12', ['in_progress', 'error: lease held']),
      ],
      SMOOTH,
      { latest: 'v12', previous: 'v11', before: 'v10' },
    ],
    [
      'latest has no status (cut off): what ran before it',
      [rec('smooth', 'v10'), rec('smooth', 'v11'), rec('smooth', 'v12', [])],
      SMOOTH,
      { latest: 'v12', previous: 'v11', before: 'v10' },
    ],
    [
      'a rollback that changed nothing is not a deploy: asking again gives the same answer',
      [
        rec('smooth', 'v10'),
        rec('smooth', 'v11'),
        rec('smooth', 'v12', ROLLED_BACK),
        rec('smooth', 'v11', ['in_progress', 'success: unchanged: already running deploy_v1100000'], {
          operation: 'rollback',
        }),
      ],
      SMOOTH,
      { latest: 'v12', previous: 'v11', before: 'v10' },
    ],
    [
      'after a successful rollback, previous toggles back',
      [rec('smooth', 'a'), rec('smooth', 'b'), rec('smooth', 'a', OK, { operation: 'rollback' })],
      SMOOTH,
      { latest: 'a', previous: 'b', before: 'a' },
    ],
    [
      'a re-deploy of the running version is skipped',
      [rec('smooth', 'a'), rec('smooth', 'b'), rec('smooth', 'b')],
      SMOOTH,
      { latest: 'b', previous: 'a' },
    ],
    [
      'records without a target name are never picked, and counted',
      [rec(null, 'a'), rec(null, 'b'), rec('smooth', 'c')],
      SMOOTH,
      { latest: 'c', unidentified: 2 },
    ],
    [
      'a process group sees deploys of the whole app',
      [rec('smooth', 'a'), rec('smooth/web', 'x'), rec('smooth', 'b')],
      { kind: 'fly', name: 'smooth/worker' },
      { latest: 'b', previous: 'a' },
    ],
    [
      'the whole app does not see deploys of one process group',
      [rec('smooth', 'a'), rec('smooth/worker', 'x')],
      SMOOTH,
      { latest: 'a' },
    ],
    [
      'two ssh services on the same hosts',
      [
        rec('web@10.0.0.1:22', 'a', OK, { target: 'ssh' }),
        rec('api@10.0.0.1:22', 'c', OK, { target: 'ssh' }),
        rec('web@10.0.0.1:22', 'b', OK, { target: 'ssh' }),
      ],
      { kind: 'ssh', name: 'api@10.0.0.1:22' },
      { latest: 'c' },
    ],
    [
      'three versions: previous and the one before it',
      [rec('smooth', 'a'), rec('smooth', 'b'), rec('smooth', 'c')],
      SMOOTH,
      { latest: 'c', previous: 'b', before: 'a' },
    ],
  ];
  for (const [name, records, identity, expected] of cases) {
    it(name, async () => {
      const { api } = history(records);
      const found = await findPrevious(api, 'production', identity);
      expect({
        latest: found.latest?.payload.image,
        previous: found.previous?.payload.image,
        before: found.before?.payload.image,
        unidentified: found.unidentified,
      }).toEqual({
        latest: expected.latest,
        previous: expected.previous,
        before: expected.before,
        unidentified: expected.unidentified ?? 0,
      });
    });
  }

  it('marks a latest deploy that was rolled back', async () => {
    const { api } = history([rec('smooth', 'v11'), rec('smooth', 'v12', ROLLED_BACK)]);
    const found = await findPrevious(api, 'production', SMOOTH);
    expect([found.latest?.rolledBack, found.latest?.latestState]).toEqual([true, 'failure']);
  });
});

describe('findById and findByTag: refused when the deployment belongs to another target', () => {
  const records = [rec('smooth', 'a'), rec('other', 'c'), rec(null, 'old'), rec('smooth', 'b')];

  const byId: [name: string, id: number, found: string | RegExp][] = [
    ['own deployment', 1, 'a'],
    [
      'another app',
      2,
      /names GitHub deployment 2, which belongs to fly app other \(GitHub deployment 2, environment production\), not to fly app smooth/,
    ],
    ['recorded without a target', 3, /recorded without the target.*give rollback-to: old/],
    ['missing', 99, /GitHub deployment 99, which does not exist/],
  ];
  for (const [name, id, found] of byId) {
    it(`by id: ${name}`, async () => {
      const { api } = history(records);
      const result = findById(api, id, SMOOTH);
      if (typeof found === 'string') expect((await result).payload.image).toBe(found);
      else await expect(result).rejects.toThrow(found);
    });
  }

  it('by id: not made by action-deploy', async () => {
    const { api } = history([{ payload: { image: 'x' }, states: OK }]);
    await expect(findById(api, 1, SMOOTH)).rejects.toThrow(/did not record/);
  });

  const byTag: [name: string, tag: string, found: string | RegExp | undefined][] = [
    ['own tag', 'deploy_a0000000', 'a'],
    ['another app', 'deploy_c0000000', /names deploy_c0000000, which belongs to fly app other/],
    ['recorded without a target', 'deploy_old00000', /recorded without the target/],
    ['no deployment carries it', 'deploy_ffffffff', /no deployment of fly app smooth carries that tag/],
  ];
  for (const [name, tag, found] of byTag) {
    it(`by tag: ${name}`, async () => {
      const { api } = history(records);
      const result = findByTag(api, 'production', SMOOTH, tag);
      if (found instanceof RegExp) await expect(result).rejects.toThrow(found);
      else expect((await result)?.payload.image).toBe(found);
    });
  }

  it('by tag: own deployment wins over another target that carries the same tag', async () => {
    const { api } = history([rec('other', 'a'), rec('smooth', 'a')]);
    expect((await findByTag(api, 'production', SMOOTH, 'deploy_a0000000'))?.deployment.id).toBe(2);
  });
});

describe('findPrevious, generated histories', () => {
  const targets = ['smooth', 'other', 'smooth/worker', null] as const;
  const outcomes = [
    OK,
    ROLLED_BACK,
    ['in_progress', 'error: lease held'],
    [],
    ['in_progress', 'success: unchanged: already running deploy_x'],
  ];
  const record = fc
    .record({
      name: fc.constantFrom(...targets),
      image: fc.constantFrom('a', 'b', 'c', 'd'),
      outcome: fc.constantFrom(...outcomes),
    })
    .map(({ name, image, outcome }) => rec(name, image, outcome));

  it('answers for one target exactly as if no other target had ever deployed to the environment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 12 }), async (records) => {
        const all = await findPrevious(history(records).api, 'production', SMOOTH);
        const own = records.filter((r) => r.payload.target_name === 'smooth');
        const alone = await findPrevious(history(own).api, 'production', SMOOTH);
        const versions = (p: typeof all) => [p.latest, p.previous, p.before].map((r) => r?.payload.image);
        expect(versions(all)).toEqual(versions(alone));
        for (const r of [all.latest, all.previous, all.before])
          if (r) expect(r.payload.target_name).toBe('smooth');
        if (all.previous) expect(all.previous.succeeded).toBe(true);
        // Counted on the way: complete when the whole list was read, which is when no `before` was found.
        if (!all.before)
          expect(all.unidentified).toBe(records.filter((r) => r.payload.target_name === undefined).length);
      }),
    );
  });
});
