import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubFake,
  type GitHubFake,
  primaryRateLimit,
  secondaryRateLimit,
} from '../../sandbox/fakes/github.ts';

let gh: GitHubFake;
const headers = {
  authorization: 'Bearer github-test-token',
  'content-type': 'application/json',
  accept: 'application/vnd.github+json',
};
const repo = '/repos/octo-org/app';
const call = (method: string, path: string, body?: unknown, h: Record<string, string> = headers) =>
  fetch(`${gh.server.url}${repo}${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeEach(async () => {
  gh = createGitHubFake();
  gh.setRef('v1.0.0');
  gh.setRef('v1.1.0');
  await gh.start();
});
afterEach(() => gh.stop());

async function deploy(ref: string, environment = 'production'): Promise<number> {
  const res = await call('POST', '/deployments', {
    ref,
    environment,
    auto_merge: false,
    required_contexts: [],
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

describe('github fake', () => {
  it('creates deployments and lists them newest first with filters', async () => {
    const first = await deploy('v1.0.0');
    const second = await deploy('v1.1.0');
    await deploy('v1.1.0', 'staging');
    const res = await call('GET', '/deployments?environment=production');
    expect(res.headers.get('x-github-request-id')).toBeTruthy();
    expect(res.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
    const list = (await res.json()) as { id: number; sha: string }[];
    expect(list.map((d) => d.id)).toEqual([second, first]);
    const byRef = (await (await call('GET', '/deployments?ref=v1.0.0')).json()) as { id: number }[];
    expect(byRef.map((d) => d.id)).toEqual([first]);
    expect(gh.server.violations).toEqual([]);
  });

  it('answers 422 for a ref it cannot find', async () => {
    const res = await call('POST', '/deployments', { ref: 'nope' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      message: 'No ref found for: nope',
      documentation_url: expect.any(String),
    });
  });

  it('records statuses newest first and turns the previous success inactive', async () => {
    const old = await deploy('v1.0.0');
    await call('POST', `/deployments/${old}/statuses`, { state: 'success' });
    const next = await deploy('v1.1.0');
    await call('POST', `/deployments/${next}/statuses`, { state: 'in_progress' });
    const created = await call('POST', `/deployments/${next}/statuses`, {
      state: 'success',
      environment_url: 'https://app.example',
    });
    expect(created.status).toBe(201);
    const statuses = (await (await call('GET', `/deployments/${next}/statuses`)).json()) as {
      state: string;
    }[];
    expect(statuses.map((s) => s.state)).toEqual(['success', 'in_progress']);
    expect(gh.statusesOf(old).map((s) => s.state)).toEqual(['success', 'inactive']);
  });

  it('deletes only inactive deployments when others share the environment', async () => {
    const old = await deploy('v1.0.0');
    await call('POST', `/deployments/${old}/statuses`, { state: 'success' });
    await deploy('v1.1.0');
    const refused = await call('DELETE', `/deployments/${old}`);
    expect(refused.status).toBe(422);
    await call('POST', `/deployments/${old}/statuses`, { state: 'inactive' });
    expect((await call('DELETE', `/deployments/${old}`)).status).toBe(204);
    expect((await call('GET', `/deployments/${old}`)).status).toBe(404);
  });

  it('lists seeded artifacts by name, newest first', async () => {
    gh.addArtifact({ name: 'evidence', created_at: '2026-01-01T00:00:00Z' });
    const newer = gh.addArtifact({ name: 'evidence', created_at: '2026-02-01T00:00:00Z' });
    gh.addArtifact({ name: 'other' });
    const body = (await (await call('GET', '/actions/artifacts?name=evidence')).json()) as {
      total_count: number;
      artifacts: { id: number }[];
    };
    expect(body.total_count).toBe(2);
    expect(body.artifacts[0]!.id).toBe(newer.id);
  });

  it('refuses a body that breaks the schema with a 422 validation message', async () => {
    const res = await call('POST', '/deployments', { environment: 'production' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string; documentation_url: string; status: string };
    expect(body.message).toMatch(/^Invalid request\.\n\n.*'ref'/s);
    expect(body.status).toBe('422');
    expect(gh.server.violations[0]!.operation).toBe('repos/create-deployment');
    expect(gh.deployments()).toHaveLength(0);
  });

  it('refuses a missing token, a bad token and a wrong path in GitHub shape', async () => {
    const anonymous = await call('GET', '/deployments', undefined, {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: 'Requires authentication' });
    const bad = await call('GET', '/deployments', undefined, { authorization: 'token wrong' });
    expect(await bad.json()).toMatchObject({ message: 'Bad credentials' });
    const wrong = await call('GET', '/deployment');
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ message: 'Not Found' });
    expect(gh.server.violations.map((v) => v.path)).toEqual([`${repo}/deployments`, `${repo}/deployment`]);
  });
});

/**
 * The official client as the oracle: Octokit with plugin-throttling, as the actions
 * use it, must read the fake's rate-limit answers as the kind of limit each stands for,
 * and the artifacts' `workflow_run` as GitHub's.
 */
describe('github fake read by Octokit', () => {
  type Seen = { kind: 'primary' | 'secondary'; retryAfter: number; url: string };
  function octokit(seen: Seen[]) {
    const note = (kind: Seen['kind']) => (retryAfter: number, options: { url: string }) => {
      seen.push({ kind, retryAfter, url: options.url });
      return false;
    };
    return getOctokit(
      gh.token,
      {
        baseUrl: gh.server.url,
        throttle: { onRateLimit: note('primary'), onSecondaryRateLimit: note('secondary') },
        retry: { enabled: false },
      },
      retry,
      throttling,
    );
  }
  const list = (o: ReturnType<typeof octokit>) =>
    o.rest.repos.listDeployments({ owner: 'octo-org', repo: 'app' });
  const ROUTE = 'GET /repos/:owner/:repo/deployments';

  it.each([403, 429] as const)(
    'a primary limit (%i) is a rate-limit event timed by x-ratelimit-reset',
    async (status) => {
      const seen: Seen[] = [];
      gh.server.inject({
        route: ROUTE,
        fault: primaryRateLimit({ resetAt: new Date(Date.now() + 30_000), status }),
      });
      await expect(list(octokit(seen))).rejects.toMatchObject({ status });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.kind).toBe('primary');
      // Until the reset plus one second, as plugin-throttling counts.
      expect(seen[0]!.retryAfter).toBeGreaterThanOrEqual(29);
      expect(seen[0]!.retryAfter).toBeLessThanOrEqual(32);
    },
  );

  it.each([
    [403, 7, 7],
    [429, 2, 2],
    [403, undefined, 60],
  ] as const)(
    'a secondary limit (%i, retry-after %s) is a secondary event of %i s',
    async (status, retryAfter, expected) => {
      const seen: Seen[] = [];
      gh.server.inject({
        route: ROUTE,
        fault: secondaryRateLimit({ status, ...(retryAfter ? { retryAfter } : {}) }),
      });
      await expect(list(octokit(seen))).rejects.toMatchObject({ status });
      expect(seen).toEqual([
        { kind: 'secondary', retryAfter: expected, url: '/repos/{owner}/{repo}/deployments' },
      ]);
    },
  );

  it('an ordinary 403 is no limit at all', async () => {
    const seen: Seen[] = [];
    gh.server.inject({
      route: ROUTE,
      fault: { status: 403, json: { message: 'Resource not accessible by integration' } },
    });
    await expect(list(octokit(seen))).rejects.toMatchObject({ status: 403 });
    expect(seen).toEqual([]);
  });

  it("lists artifacts of forks and other branches with the contract's workflow_run fields", async () => {
    const own = gh.addArtifact({ name: 'evidence' });
    const fork = gh.addArtifact({
      name: 'evidence',
      workflow_run: { head_repository_id: gh.repositoryId('mallory/app'), head_branch: 'main' },
    });
    const branch = gh.addArtifact({ name: 'evidence', workflow_run: { head_branch: 'feature/x' } });
    const res = await octokit([]).rest.actions.listArtifactsForRepo({
      owner: 'octo-org',
      repo: 'app',
      name: 'evidence',
    });
    const runs = Object.fromEntries(res.data.artifacts.map((a) => [a.id, a.workflow_run]));
    const repoId = gh.repositoryId('octo-org/app');
    expect(runs[own.id]).toEqual({
      id: own.workflow_run.id,
      repository_id: repoId,
      head_repository_id: repoId,
      head_branch: 'main',
      head_sha: own.workflow_run.head_sha,
    });
    expect(runs[fork.id]).toMatchObject({
      repository_id: repoId,
      head_repository_id: gh.repositoryId('mallory/app'),
    });
    expect(gh.repositoryId('mallory/app')).not.toBe(repoId);
    expect(runs[branch.id]).toMatchObject({
      repository_id: repoId,
      head_repository_id: repoId,
      head_branch: 'feature/x',
    });
    expect(gh.server.violations).toEqual([]);
  });
});
