import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InputError } from '../../src/core/errors.ts';
import { fromRecord, InputReader } from '../../src/core/inputs.ts';
import type { CheckResult } from '../../src/evidence/collect.ts';
import {
  describeRefusals,
  type EvidenceScope,
  refusalOf,
  selectEvidence,
  toleratedChecks,
} from '../../src/evidence/gate.ts';
import { parseInputs } from '../../src/evidence/inputs.ts';
import type { RepoArtifact } from '../../src/providers/github/artifacts.ts';

/** The selection rule of `require-previous`, and where its branch comes from. */

const REPO = 42;
const FORK = 99;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const scope: EvidenceScope = { repositoryId: REPO, branch: 'main', now: NOW };

function artifact(over: Partial<RepoArtifact> = {}, run: RepoArtifact['workflow_run'] = {}): RepoArtifact {
  return {
    id: 1,
    name: 'evidence-t1-m1',
    expired: false,
    created_at: '2026-05-01T00:00:00Z',
    expires_at: '2026-07-30T00:00:00Z',
    ...over,
    workflow_run:
      run === null
        ? null
        : {
            id: 7,
            repository_id: REPO,
            head_repository_id: REPO,
            head_branch: 'main',
            head_sha: 'a',
            ...run,
          },
  };
}

describe('refusalOf', () => {
  it.each([
    ['own repository, own branch', artifact(), scope, undefined],
    ['expired flag', artifact({ expired: true }), scope, 'expired on 2026-07-30T00:00:00Z'],
    [
      'expires_at passed, flag not yet set',
      artifact({ expires_at: '2026-05-31T00:00:00Z' }),
      scope,
      'expired on 2026-05-31T00:00:00Z',
    ],
    ['no expires_at', artifact({ expires_at: null }), scope, undefined],
    ['no workflow run', artifact({}, null), scope, 'GitHub names no workflow run for it'],
    [
      'pull request from a fork',
      artifact({}, { head_repository_id: FORK }),
      scope,
      "from a fork: its workflow run's head repository is 99, not this one (42)",
    ],
    [
      "fork, GITHUB_REPOSITORY_ID unknown: the run's own repository stands for it",
      artifact({}, { head_repository_id: FORK }),
      { ...scope, repositoryId: undefined },
      "from a fork: its workflow run's head repository is 99, not this one (42)",
    ],
    [
      'own repository, GITHUB_REPOSITORY_ID unknown',
      artifact(),
      { ...scope, repositoryId: undefined },
      undefined,
    ],
    [
      'a run of another repository',
      artifact({}, { repository_id: 43, head_repository_id: 43 }),
      scope,
      'its workflow run is of repository 43, not this one (42)',
    ],
    [
      'no head repository',
      artifact({}, { head_repository_id: undefined }),
      scope,
      'its workflow run names no repository',
    ],
    ['another branch', artifact({}, { head_branch: 'feature/x' }), scope, 'from branch feature/x, not main'],
    [
      'branch named by require-previous-ref',
      artifact({}, { head_branch: 'release/2.x' }),
      { ...scope, branch: 'release/2.x' },
      undefined,
    ],
    ['branch is case-sensitive', artifact({}, { head_branch: 'Main' }), scope, 'from branch Main, not main'],
    [
      'no branch',
      artifact({}, { head_branch: undefined }),
      scope,
      'its workflow run names no branch, not main',
    ],
    [
      'fork on a branch called main: the fork is named first',
      artifact({}, { head_repository_id: FORK, head_branch: 'feature' }),
      scope,
      "from a fork: its workflow run's head repository is 99, not this one (42)",
    ],
  ] as const)('%s', (_label, a, s, expected) => {
    expect(refusalOf(a, s)).toBe(expected);
  });
});

describe('selectEvidence', () => {
  const own = (id: number, created: string, run: RepoArtifact['workflow_run'] = {}) =>
    artifact({ id, created_at: created }, run);

  it.each([
    ['nothing listed', [], undefined, []],
    [
      'the newest that counts, not the newest listed',
      [
        own(1, '2026-05-01T00:00:00Z'),
        own(2, '2026-05-03T00:00:00Z', { head_repository_id: FORK }),
        own(3, '2026-05-02T00:00:00Z'),
      ],
      3,
      [2, 3, 1],
    ],
    [
      'none counts',
      [
        own(1, '2026-05-01T00:00:00Z', { head_branch: 'x' }),
        own(2, '2026-05-02T00:00:00Z', { head_repository_id: FORK }),
      ],
      undefined,
      [2, 1],
    ],
    ['a missing created_at sorts last', [own(1, ''), own(2, '2026-05-02T00:00:00Z')], 2, [2, 1]],
  ] as const)('%s', (_label, list, chosen, order) => {
    const result = selectEvidence(list as readonly RepoArtifact[], scope);
    expect(result.chosen?.id).toBe(chosen);
    expect(result.judged.map((j) => j.artifact.id)).toEqual(order);
  });
});

describe('selectEvidence (property)', () => {
  const listed = fc.array(
    fc.record({
      id: fc.nat(),
      expired: fc.boolean(),
      created: fc.date({ min: new Date('2026-01-01'), max: new Date('2026-06-01'), noInvalidDate: true }),
      head: fc.constantFrom(REPO, FORK),
      branch: fc.constantFrom('main', 'feature/x', ''),
    }),
    { maxLength: 12 },
  );

  it('chooses the newest artifact that counts, and only one that counts', () => {
    fc.assert(
      fc.property(listed, (items) => {
        const list = items.map((i) =>
          artifact(
            { id: i.id, expired: i.expired, created_at: i.created.toISOString() },
            { head_repository_id: i.head, head_branch: i.branch || undefined },
          ),
        );
        const { chosen, judged } = selectEvidence(list, scope);
        const counting = list.filter((a) => refusalOf(a, scope) === undefined);
        expect(judged).toHaveLength(list.length);
        if (counting.length === 0) {
          expect(chosen).toBeUndefined();
          return;
        }
        expect(chosen && refusalOf(chosen, scope)).toBeUndefined();
        for (const other of counting) expect(chosen!.created_at! >= other.created_at!).toBe(true);
      }),
    );
  });
});

describe('describeRefusals', () => {
  it('says when nothing is listed', () => {
    expect(describeRefusals({ name: 'evidence-t1-m1', chosen: undefined, judged: [] }, scope)).toBe(
      'GitHub lists no artifact named evidence-t1-m1',
    );
  });

  it('names each artifact and its reason, and points at require-previous-ref for another branch', () => {
    const list = [
      artifact({ id: 5 }, { head_branch: 'feature/x' }),
      artifact({ id: 6, created_at: null }, { head_repository_id: FORK }),
    ];
    const found = { name: 'evidence-t1-m1', ...selectEvidence(list, scope) };
    expect(describeRefusals(found, scope)).toBe(
      'GitHub lists 2 artifacts named evidence-t1-m1, none counts: artifact 5 of 2026-05-01T00:00:00Z from branch feature/x, not main; ' +
        "artifact 6 from a fork: its workflow run's head repository is 99, not this one (42); " +
        'require-previous-ref names another branch whose evidence counts (now main)',
    );
  });

  it('lists ten and counts the rest', () => {
    const list = Array.from({ length: 13 }, (_, i) => artifact({ id: i + 1, expired: true }));
    const text = describeRefusals({ name: 'n', ...selectEvidence(list, scope) }, scope);
    expect(text.match(/artifact \d+ /g)).toHaveLength(10);
    expect(text).toMatch(/; and 3 more$/);
  });
});

describe('the branch in scope', () => {
  const parse = (inputs: Record<string, string>, env: Record<string, string>) =>
    parseInputs(
      new InputReader(
        fromRecord({ milestone: 'm', 'require-previous': 'true', 'github-token': 't', ...inputs }),
      ),
      env,
    );

  it.each([
    ['push to a branch', {}, { GITHUB_REF_NAME: 'main' }, 'main'],
    [
      'pull request: its head branch',
      {},
      { GITHUB_HEAD_REF: 'feature/x', GITHUB_REF_NAME: '12/merge' },
      'feature/x',
    ],
    ['empty GITHUB_HEAD_REF, as on a push', {}, { GITHUB_HEAD_REF: '', GITHUB_REF_NAME: 'dev' }, 'dev'],
    [
      'require-previous-ref wins',
      { 'require-previous-ref': 'release/2.x' },
      { GITHUB_REF_NAME: 'main' },
      'release/2.x',
    ],
    // Shrunk by the property below: an empty input is no input.
    [
      "empty require-previous-ref: the run's branch",
      { 'require-previous-ref': '' },
      { GITHUB_REF_NAME: 'main' },
      'main',
    ],
    [
      "blank require-previous-ref: the run's branch",
      { 'require-previous-ref': ' \n' },
      { GITHUB_REF_NAME: 'dev' },
      'dev',
    ],
    ['refs/heads/ is taken off', { 'require-previous-ref': 'refs/heads/release/2.x' }, {}, 'release/2.x'],
  ])('%s', (_label, inputs, env, branch) => {
    expect(parse(inputs, env).previousRef).toBe(branch);
  });

  it('is not needed without require-previous, but a bad value is still refused', () => {
    expect(
      parseInputs(new InputReader(fromRecord({ milestone: 'm', 'require-previous-ref': 'x' })), {})
        .previousRef,
    ).toBeUndefined();
    expect(() =>
      parseInputs(new InputReader(fromRecord({ milestone: 'm', 'require-previous-ref': 'x y' })), {}),
    ).toThrow(/require-previous-ref/);
  });

  const refused: [Record<string, string>, Record<string, string>, string][] = [
    [{}, {}, "neither GITHUB_HEAD_REF nor GITHUB_REF_NAME names this run's branch"],
    ...['feature..x', '-x', 'a b', 'x.lock', 'x/', 'a~1', 'a:b', 'a\\b', 'x@{1}'].map(
      (ref): [Record<string, string>, Record<string, string>, string] => [
        { 'require-previous-ref': ref },
        { GITHUB_REF_NAME: 'main' },
        'must be a branch name',
      ],
    ),
  ];
  it.each(refused)('%j with %j → error on require-previous-ref', (inputs, env, text) => {
    let error: InputError | undefined;
    try {
      parse(inputs, env);
    } catch (e) {
      error = e as InputError;
    }
    expect(error?.input).toBe('require-previous-ref');
    expect(error?.message).toContain(text);
  });

  it('reads GITHUB_REPOSITORY_ID when the runner gives a number', () => {
    expect(parse({}, { GITHUB_REF_NAME: 'main', GITHUB_REPOSITORY_ID: '1296269' }).github.repositoryId).toBe(
      1296269,
    );
    expect(
      parse({}, { GITHUB_REF_NAME: 'main', GITHUB_REPOSITORY_ID: '' }).github.repositoryId,
    ).toBeUndefined();
  });

  it('any require-previous-ref is either the branch it names or one error naming the input (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (ref) => {
        let branch: string | undefined;
        try {
          branch = parse({ 'require-previous-ref': ref }, { GITHUB_REF_NAME: 'main' }).previousRef;
        } catch (e) {
          expect((e as InputError).input).toBe('require-previous-ref');
          return;
        }
        const named = ref.trim();
        expect(branch).toBe(named === '' ? 'main' : named.replace(/^refs\/heads\//, ''));
        expect(branch).not.toMatch(/[\s~^:?*[\\]|\.\.|^-|\/$|\.lock$/);
      }),
    );
  });

  it('accepts every branch made of the characters git allows (property)', () => {
    const segment = fc
      .stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}$/)
      .filter((s) => !s.includes('..') && !s.endsWith('.') && !s.endsWith('.lock'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (parts) => {
        const branch = parts.join('/');
        expect(parse({ 'require-previous-ref': branch }, {}).previousRef).toBe(branch);
        expect(parse({ 'require-previous-ref': `refs/heads/${branch}` }, {}).previousRef).toBe(branch);
      }),
    );
  });
});

describe('toleratedChecks: the warning for checks that did not pass and are not required', () => {
  const check = (id: string, over: Partial<CheckResult> = {}): CheckResult => ({
    id,
    title: id,
    kind: 'run',
    what: 'true',
    required: false,
    status: 'passed',
    exitCode: 0,
    httpStatus: undefined,
    timeoutMs: 60_000,
    durationMs: 1,
    startedMs: 0,
    output: '',
    totalLines: 0,
    cutLines: 0,
    note: undefined,
    ...over,
  });
  const failed = (id: string, over: Partial<CheckResult> = {}) =>
    check(id, { status: 'failed', exitCode: 1, ...over });
  it.each([
    ['every check passed', [check('a'), check('b', { required: true })], undefined],
    ['nothing ran', [], undefined],
    [
      'a required check failed: the error names it',
      [failed('a', { required: true }), failed('b')],
      undefined,
    ],
    [
      'one exit code',
      [check('a'), failed('b', { exitCode: 3 })],
      '1 of 2 checks did not pass, none of them required: b (exit 3)',
    ],
    [
      'HTTP, timed out and error',
      [
        failed('h', { kind: 'http', exitCode: undefined, httpStatus: 503 }),
        check('t', { status: 'timed out', exitCode: undefined }),
        check('e', { status: 'error', exitCode: undefined }),
        check('ok', { required: true }),
      ],
      '3 of 4 checks did not pass, none of them required: h (HTTP 503); t (timed out); e (error)',
    ],
    ['the only check', [failed('a')], '1 of 1 check did not pass, none of them required: a (exit 1)'],
  ])('%s', (_name, results, expected) => {
    expect(toleratedChecks(results)).toBe(expected);
  });

  it('names ten and counts the rest', () => {
    const results = Array.from({ length: 13 }, (_, i) => failed(`c${i}`));
    expect(toleratedChecks(results)).toBe(
      `13 of 13 checks did not pass, none of them required: ${Array.from({ length: 10 }, (_, i) => `c${i} (exit 1)`).join('; ')}; and 3 more`,
    );
  });
});
