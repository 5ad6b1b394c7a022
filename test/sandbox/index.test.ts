import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.ts';

describe('startSandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox?.stop());

  it('serves every provider on loopback with the sandbox credentials, within its contract', async () => {
    const t = sandbox.tokens;
    const answers = await Promise.all([
      fetch(`${sandbox.urls.heroku}/account`, {
        headers: { accept: 'application/vnd.heroku+json; version=3', authorization: `Bearer ${t.heroku}` },
      }),
      fetch(`${sandbox.urls.hetzner}/zones`, { headers: { authorization: `Bearer ${t.hetzner}` } }),
      fetch(`${sandbox.urls.cloudflare}/zones?name=example.com`, {
        headers: { authorization: `Bearer ${t.cloudflare}` },
      }),
      fetch(`${sandbox.urls.fly}/apps/smooth/machines`, { headers: { authorization: `Bearer ${t.fly}` } }),
      fetch(`${sandbox.urls.digitalocean}/droplets?tag_name=deployed-via-api`, {
        headers: { authorization: `Bearer ${t.digitalocean}` },
      }),
      fetch(`${sandbox.urls.github}/repos/acme/fleet/deployments`, {
        headers: { authorization: `Bearer ${t.github}`, accept: 'application/vnd.github+json' },
      }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const url of [...Object.values(sandbox.urls).flat()])
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(sandbox.violations()).toEqual([]);
  });

  it('collects violations from every fake', async () => {
    await fetch(`${sandbox.urls.fly}/apps/smooth/machinez`, {
      headers: { authorization: `Bearer ${sandbox.tokens.fly}` },
    });
    expect(sandbox.violations().map((v) => v.fake)).toEqual(['fly']);
  });
});
