import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../sandbox/fakes/github.ts';
import { createHerokuFake, type HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS, statesOf } from './fixtures.ts';

/** Defects the faults matrix (test/reliability/faults.ts) found, each pinned by the bundle. */

let heroku: HerokuFake;
let github: GitHubFake;

beforeEach(async () => {
  heroku = createHerokuFake({ apiKeys: [SECRETS.heroku], knobs: { buildLineIntervalMs: 20 } });
  github = createGitHubFake({ token: SECRETS.github, repositories: ['acme/fleet'] });
  await Promise.all([heroku.start(), github.start()]);
  heroku.seedApp({ name: 'web-prod' });
});
afterEach(async () => {
  await Promise.all([heroku.stop(), github.stop()]);
});

const deploy = () =>
  runBundle('deploy', {
    env: { OPS_ACTIONS_REQUEST_TIMEOUT: '2' },
    timeoutMs: 60_000,
    inputs: {
      target: 'heroku',
      'heroku-app': 'web-prod',
      'heroku-api-key': SECRETS.heroku,
      'heroku-api-url': heroku.url,
      'github-token': SECRETS.github,
      'github-api-url': github.server.url,
      'source-url': 'https://example.test/app.tgz',
    },
  });

describe('deploy under provider faults', () => {
  it('a build output stream that never answers does not hold the deploy once the build is over', async () => {
    heroku.server.inject({ route: 'build.output-stream', fault: { hang: true } });
    const run = await deploy();
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('warning: build output stream ended early: no more output 5000 ms after');
    expect(run.outputs.status).toBe('success');
    expect(heroku.currentRelease('web-prod')?.version).toBe(2);
    expectNoSecrets(run);
    expectNoViolations(heroku.server, github.server);
  });

  it('a deployment status answered 503 is sent again, so the deployment does not stay in_progress', async () => {
    github.server.inject({ route: 'repos/create-deployment-status', call: 2, fault: { status: 503 } });
    const run = await deploy();
    expect(run.code).toBe(0);
    const [d] = github.deployments();
    expect(statesOf(github, d!.id)).toEqual(['in_progress', 'success']);
    expect(github.server.received('repos/create-deployment-status')).toHaveLength(3);
    expectNoViolations(heroku.server, github.server);
  });
});
