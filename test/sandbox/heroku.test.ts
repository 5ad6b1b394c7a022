import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHerokuFake, type HerokuFake, herokuFault } from '../../sandbox/fakes/heroku.ts';

const KEY = 'hk-test-key';
const HEADERS = {
  accept: 'application/vnd.heroku+json; version=3',
  authorization: `Bearer ${KEY}`,
  'content-type': 'application/json',
};

let fake: HerokuFake;

beforeEach(async () => {
  fake = createHerokuFake({ apiKeys: [KEY], knobs: { promotionDelayMs: 80, acmDelayMs: 50 } });
  await fake.start();
});

afterEach(async () => {
  await fake.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = HEADERS) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    // biome-ignore lint/suspicious/noExplicitAny: answers are walked freely; their shapes are what the assertions check
    json: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('heroku contract', () => {
  it('rejects an unknown path with not_found and records a violation', async () => {
    const res = await call('GET', '/apps/source/frobnicate');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ id: 'not_found' });
    expect(fake.server.violations).toHaveLength(1);
    expect(fake.server.violations[0]!.problems[0]).toContain(
      'no link in the schema for GET /apps/source/frobnicate',
    );
  });

  it('answers 400 missing_version without the version in Accept, as Heroku does', async () => {
    fake.seedApp({ name: 'source' });
    const res = await call('GET', '/apps/source', undefined, { ...HEADERS, accept: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ id: 'missing_version', error: expect.stringContaining('version=3') });
    expect(fake.server.violations[0]!.problems[0]).toMatch(/Accept header lacks a version/);
    const wrong = await call('GET', '/apps/source', undefined, {
      ...HEADERS,
      accept: 'application/vnd.heroku+json; version=2',
    });
    expect(wrong.status).toBe(406);
    expect(wrong.json?.id).toBe('not_acceptable');
  });

  it('answers 401 unauthorized without a bearer key and with an unknown key', async () => {
    const { authorization: _, ...noAuth } = HEADERS;
    const missing = await call('GET', '/account', undefined, noAuth);
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({
      id: 'unauthorized',
      message: expect.stringContaining('Authorization'),
    });
    expect(fake.server.violations).toHaveLength(1);
    const wrong = await call('GET', '/account', undefined, { ...HEADERS, authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json?.message).toBe('Invalid credentials provided.');
    // A wrong key is the caller's data, not a protocol mistake.
    expect(fake.server.violations).toHaveLength(1);
  });

  it('answers 422 invalid_params for bodies that break the link schema', async () => {
    fake.seedApp({ name: 'source' });
    const badName = await call('POST', '/apps', { name: 'Not_Valid' });
    expect(badName.status).toBe(422);
    expect(badName.json).toMatchObject({ id: 'invalid_params', message: expect.stringContaining('/name') });
    const noSni = await call('POST', '/apps/source/domains', { hostname: 'x.example.com' });
    expect(noSni.status).toBe(422);
    expect(noSni.json?.message).toContain('sni_endpoint');
    const badRollback = await call('POST', '/apps/source/releases', { release: 'v3' });
    expect(badRollback.status).toBe(422);
    expect(fake.server.violations.map((v) => v.operation)).toEqual([
      'app.create',
      'domain.create',
      'release.create',
    ]);
    expect(fake.state.apps).toHaveLength(1);
  });

  it('accepts correct requests and answers in the shapes the schema gives', async () => {
    const account = await call('GET', '/account');
    expect(account.status).toBe(200);
    expect(account.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
    expect(account.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const created = await call('POST', '/apps', { name: 'shop-clone', region: 'eu', stack: 'heroku-24' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: 'shop-clone',
      region: { name: 'eu' },
      stack: { name: 'heroku-24' },
      acm: false,
    });
    expect(fake.contract.responseProblems('app.create', created.json)).toEqual([]);
    const byId = await call('GET', `/apps/${created.json!.id}`);
    expect(byId.json?.name).toBe('shop-clone');

    const team = await call('POST', '/teams/apps', { name: 'team-clone', team: 'acme', region: 'us' });
    expect(team.status).toBe(201);
    expect(team.json?.team).toEqual({ name: 'acme' });
    expect((await call('GET', '/apps/team-clone')).json?.team).toMatchObject({ name: 'acme' });

    const taken = await call('POST', '/apps', { name: 'shop-clone' });
    expect(taken.status).toBe(422);

    const patched = await call('PATCH', '/apps/shop-clone/config-vars', { IMAGE_FOLDER: 'x', GONE: 'y' });
    expect(patched.json).toEqual({ IMAGE_FOLDER: 'x', GONE: 'y' });
    const removed = await call('PATCH', '/apps/shop-clone/config-vars', { GONE: null });
    expect(removed.json).toEqual({ IMAGE_FOLDER: 'x' });

    await call('POST', '/apps/shop-clone/acm');
    const domain = await call('POST', '/apps/shop-clone/domains', {
      hostname: 'clone.example.com',
      sni_endpoint: null,
    });
    expect(domain.status).toBe(201);
    expect(domain.json).toMatchObject({
      kind: 'custom',
      hostname: 'clone.example.com',
      acm_status: 'pending',
    });
    expect(domain.json?.cname).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{12}\.herokudns\.com$/);
    expect(fake.contract.responseProblems('domain.create', domain.json)).toEqual([]);
    const issued = await until(
      () => call('GET', '/apps/shop-clone/domains/clone.example.com'),
      (r) => r.json?.acm_status === 'cert issued',
    );
    expect(issued.json?.acm_status).toBe('cert issued');
    const list = await call('GET', '/apps/shop-clone/domains');
    expect(list.json?.map((d: { kind: string }) => d.kind).sort()).toEqual(['custom', 'heroku']);

    expect((await call('DELETE', '/apps/team-clone')).status).toBe(200);
    expect((await call('GET', '/apps/team-clone')).json).toMatchObject({ id: 'not_found', resource: 'app' });
    expect(fake.server.violations).toEqual([]);
  });

  it('answers every served operation in the shape of its targetSchema', async () => {
    const source = fake.seedApp({ name: 'source', team: 'acme' });
    fake.seedAddon('source', { service: 'heroku-postgresql', config: { DATABASE_URL: 'postgres://db' } });
    const [release] = fake.seedReleases('source', 1);
    const pipeline = fake.seedPipeline('shop');
    const coupling = fake.couple('source', pipeline.id, 'production');
    await call('POST', '/apps/source/acm');
    await call('POST', '/apps/source/domains', { hostname: 'www.example.com', sni_endpoint: null });
    const build = await call('POST', '/apps/source/builds', {
      source_blob: { url: 'https://example.com/s.tgz' },
    });
    fake.seedApp({ name: 'target' });
    fake.couple('target', pipeline.id, 'staging');
    const promotion = await call('POST', '/pipeline-promotions', {
      pipeline: { id: pipeline.id },
      source: { app: { id: source.id } },
      targets: [{ app: { id: fake.app('target')!.id } }],
    });
    const paths = [
      '/account',
      '/apps',
      '/apps/source',
      '/teams/apps/source',
      '/apps/source/config-vars',
      '/apps/source/addons',
      '/apps/source/domains',
      '/apps/source/domains/www.example.com',
      '/apps/source/releases',
      `/apps/source/releases/${release!.id}`,
      '/apps/source/builds',
      `/apps/source/builds/${build.json!.id}`,
      '/apps/source/pipeline-couplings',
      '/apps/source/sni-endpoints',
      '/pipelines',
      `/pipelines/${pipeline.id}`,
      `/pipelines/${pipeline.id}/pipeline-couplings`,
      '/pipeline-couplings',
      `/pipeline-couplings/${coupling.id}`,
      `/pipeline-promotions/${promotion.json!.id}`,
      `/pipeline-promotions/${promotion.json!.id}/promotion-targets`,
    ];
    for (const path of paths) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(200);
      const [link] = fake.contract.findLinks('GET', path).sort((a, b) => a.templated - b.templated);
      expect({ path, problems: fake.contract.responseProblems(link!.operation, res.json) }).toEqual({
        path,
        problems: [],
      });
    }
    expect(fake.server.violations).toEqual([]);
  });

  it('lists add-ons with the config vars each owns', async () => {
    fake.seedApp({ name: 'source' });
    fake.seedAddon('source', { service: 'heroku-postgresql', config: { DATABASE_URL: 'postgres://db' } });
    const addons = await call('GET', '/apps/source/addons');
    expect(addons.json?.[0]).toMatchObject({
      addon_service: { name: 'heroku-postgresql' },
      config_vars: ['DATABASE_URL'],
    });
    expect(fake.contract.responseProblems('add-on.list-by-app', addons.json)).toEqual([]);
    expect((await call('GET', '/apps/source/config-vars')).json).toEqual({ DATABASE_URL: 'postgres://db' });
  });
});

describe('heroku releases', () => {
  it('pages releases with Range, answering 206 and Next-Range until the last page', async () => {
    fake.seedApp({ name: 'source' });
    fake.seedReleases('source', 11); // v2..v12 after the initial v1
    const first = await call('GET', '/apps/source/releases', undefined, {
      ...HEADERS,
      range: 'version ..; max=5, order=desc',
    });
    expect(first.status).toBe(206);
    expect(first.json?.map((r: { version: number }) => r.version)).toEqual([12, 11, 10, 9, 8]);
    expect(first.headers.get('next-range')).toBe('version ]8..; max=5, order=desc');
    expect(first.json?.[0].current).toBe(true);

    const versions: number[] = first.json!.map((r: { version: number }) => r.version);
    let next = first.headers.get('next-range');
    let pages = 1;
    while (next) {
      const page = await call('GET', '/apps/source/releases', undefined, { ...HEADERS, range: next });
      versions.push(...page.json!.map((r: { version: number }) => r.version));
      next = page.headers.get('next-range');
      pages++;
      if (!next) expect(page.status).toBe(200);
    }
    expect(pages).toBe(3);
    expect(versions).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);

    const all = await call('GET', '/apps/source/releases');
    expect(all.status).toBe(200);
    expect(all.json?.map((r: { version: number }) => r.version)[0]).toBe(1);

    const bad = await call('GET', '/apps/source/releases', undefined, {
      ...HEADERS,
      range: 'version ..; max=5; order=desc',
    });
    expect(bad.status).toBe(400);
    expect(bad.json?.id).toBe('bad_request');
  });

  it('rolls back by creating a new release with the old slug and config', async () => {
    fake.seedApp({ name: 'source' });
    const [v2] = fake.seedReleases('source', 1);
    await call('PATCH', '/apps/source/config-vars', { LATER: '1' });
    const res = await call('POST', '/apps/source/releases', { release: v2!.id });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      version: 4,
      description: 'Rollback to v2',
      slug: { id: v2!.slugId },
      current: true,
    });
    expect(fake.server.received('release.rollback')).toHaveLength(1);
    expect(fake.config('source')).toEqual({});
  });
});

describe('heroku builds', () => {
  it('streams build output in pieces, then the build succeeds with a release', async () => {
    fake.seedApp({ name: 'source' });
    const build = await call('POST', '/apps/source/builds', {
      source_blob: { url: 'https://example.com/source.tgz', version: 'abc1234def' },
    });
    expect(build.status).toBe(201);
    expect(build.json?.status).toBe('pending');
    expect(build.json?.output_stream_url).toBe(`${fake.url}/streams/builds/${build.json!.id}`);

    const stream = await fetch(build.json!.output_stream_url as string);
    expect(stream.headers.get('transfer-encoding')).toBe('chunked');
    const arrivals: number[] = [];
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of stream.body!) {
      arrivals.push(Date.now());
      text += decoder.decode(chunk, { stream: true });
    }
    expect(text.split('\n').filter(Boolean)).toEqual(fake.knobs.buildLines);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(100);

    const done = await until(
      () => call('GET', `/apps/source/builds/${build.json!.id}`),
      (r) => r.json?.status !== 'pending',
    );
    expect(done.json?.status).toBe('succeeded');
    expect(fake.contract.responseProblems('build.info', done.json)).toEqual([]);
    expect(fake.currentRelease('source')).toMatchObject({
      id: done.json!.release.id,
      description: 'Deploy abc1234',
    });
  });

  it('fails a build when asked, without a release', async () => {
    fake.seedApp({ name: 'source' });
    fake.knobs.buildFailures.set('source', ['-----> Building', ' !     Push failed']);
    const build = await call('POST', '/apps/source/builds', {
      source_blob: { url: 'https://example.com/s.tgz' },
    });
    const text = await (await fetch(build.json!.output_stream_url as string)).text();
    expect(text).toContain('Push failed');
    const done = await until(
      () => call('GET', `/apps/source/builds/${build.json!.id}`),
      (r) => r.json?.status !== 'pending',
    );
    expect(done.json).toMatchObject({ status: 'failed', release: null });
  });
});

describe('heroku promotions', () => {
  async function pipelineWith(...apps: string[]) {
    const pipeline = fake.seedPipeline('shop');
    for (const name of apps) fake.seedApp({ name });
    fake.seedReleases('source', 1);
    const res = await call('POST', '/pipeline-couplings', {
      app: 'source',
      pipeline: pipeline.id,
      stage: 'production',
    });
    expect(res.status).toBe(201);
    for (const name of apps.slice(1)) {
      const coupled = await call('POST', '/pipeline-couplings', {
        app: name,
        pipeline: pipeline.id,
        stage: 'production',
      });
      expect(coupled.status).toBe(201);
    }
    return pipeline;
  }

  it('moves a target from pending to succeeded and creates its release', async () => {
    const pipeline = await pipelineWith('source', 'clone');
    const coupling = await call('GET', '/apps/clone/pipeline-couplings');
    expect(coupling.json).toMatchObject({ pipeline: { id: pipeline.id }, stage: 'production' });
    const listed = await call('GET', `/pipelines/${pipeline.id}/pipeline-couplings`);
    expect(listed.json).toHaveLength(2);

    const promotion = await call('POST', '/pipeline-promotions', {
      pipeline: { id: pipeline.id },
      source: { app: { id: fake.app('source')!.id } },
      targets: [{ app: { id: fake.app('clone')!.id } }],
    });
    expect(promotion.status).toBe(201);
    const targetsPath = `/pipeline-promotions/${promotion.json!.id}/promotion-targets`;
    const pending = await call('GET', targetsPath);
    expect(pending.json?.[0]).toMatchObject({ status: 'pending', release: null, error_message: null });
    const finished = await until(
      () => call('GET', targetsPath),
      (r) => r.json?.[0].status !== 'pending',
    );
    expect(finished.json?.[0].status).toBe('succeeded');
    expect(fake.currentRelease('clone')).toMatchObject({
      id: finished.json![0].release.id,
      slugId: fake.currentRelease('source')!.slugId,
    });
    expect((await call('GET', `/pipeline-promotions/${promotion.json!.id}`)).json?.status).toBe('completed');
  });

  it('fails a target with an error_message when asked', async () => {
    const pipeline = await pipelineWith('source', 'clone');
    fake.knobs.promotionFailures.set('clone', 'Release phase failed');
    const promotion = await call('POST', '/pipeline-promotions', {
      pipeline: { id: pipeline.id },
      source: { app: { id: fake.app('source')!.id } },
      targets: [{ app: { id: fake.app('clone')!.id } }],
    });
    const path = `/pipeline-promotions/${promotion.json!.id}/promotion-targets`;
    const finished = await until(
      () => call('GET', path),
      (r) => r.json?.[0].status !== 'pending',
    );
    expect(finished.json?.[0]).toMatchObject({ status: 'failed', error_message: 'Release phase failed' });
  });
});

describe('heroku faults', () => {
  it('injects a rate limit on the second call of an operation only', async () => {
    fake.seedApp({ name: 'source' });
    fake.server.inject({ route: 'app.info', call: 2, fault: herokuFault(429, undefined, { retryAfter: 3 }) });
    expect((await call('GET', '/apps/source')).status).toBe(200);
    const limited = await call('GET', '/apps/source');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.json).toMatchObject({ id: 'rate_limit' });
    expect((await call('GET', '/apps/source')).status).toBe(200);
    expect(fake.server.received('app.info').map((r) => r.faulted)).toEqual([false, true, false]);
  });

  it('refuses with rate_limit once the budget is spent', async () => {
    fake.state.rateLimitRemaining = 2;
    expect((await call('GET', '/account')).headers.get('ratelimit-remaining')).toBe('1');
    const res = await call('GET', '/account');
    expect(res.status).toBe(429);
    expect(res.json?.id).toBe('rate_limit');
  });
});
