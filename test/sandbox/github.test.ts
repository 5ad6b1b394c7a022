import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';

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
