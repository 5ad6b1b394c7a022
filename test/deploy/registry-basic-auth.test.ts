import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { pushImage, type Registry, startRegistry } from '../../sandbox/registry.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/**
 * The committed deploy bundle against the real Distribution registry with htpasswd
 * auth only: every request without credentials is answered 401 `Basic realm=…`, and
 * there is no anonymous access to fall back on. A user who forgot the registry's
 * credentials must read which registry refused and which inputs to set.
 */

const user = { username: 'deployer', password: SECRETS.registry };

let registry: Registry;
let fly: FlyFake;
beforeAll(async () => {
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
  [registry] = await Promise.all([startRegistry({ auth: user }), fly.start()]);
  await pushImage(registry, 'acme/app', '1.0.0', { content: 'basic-auth' });
});
afterAll(async () => {
  await Promise.all([fly?.stop(), registry?.stop()]);
});

const deploy = (machine: string, inputs: Record<string, string>) => {
  fly.addMachine({ id: machine });
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: {
      target: 'fly',
      'fly-app': 'test-app',
      'fly-api-token': SECRETS.fly,
      'fly-api-url': `${fly.server.url}/v1`,
      image: `${registry.host}/acme/app:1.0.0`,
      'tag-image': 'false',
      ...inputs,
    },
  });
};

describe('deploy bundle: a registry that takes only a username and password', () => {
  it('without credentials, names the registry host and the inputs to set; nothing is deployed', async () => {
    // The job's token is given, as in a workflow; "No credentials were sent" shows it went nowhere but ghcr.io.
    const run = await deploy('no-creds', { 'github-token': SECRETS.github });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      `Could not read ${registry.host}/acme/app:1.0.0 from its registry: An anonymous pull of acme/app was refused by Registry ${registry.host} (401: the registry takes only a username and password (HTTP Basic)). No credentials were sent: set registry-username and registry-password of an account with access to the image (the GitHub token is sent only to ghcr.io, the Fly API token only to registry.fly.io)`,
    ]);
    expect(fly.server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(fly.machine('no-creds')!.config.image).not.toContain(registry.host);
    expectNoSecrets(run);
  });

  it('with registry-username and registry-password, reads the image and deploys it', async () => {
    const run = await deploy('with-creds', {
      'registry-username': user.username,
      'registry-password': user.password,
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(fly.machine('with-creds')!.config.image).toMatch(
      new RegExp(`^${registry.host.replace(/\./g, '\\.')}/acme/app@sha256:[0-9a-f]{64}$`),
    );
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });
});
