import { afterEach, beforeEach, expect, it } from 'vitest';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
import type { HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { expectNoViolations, statesOf } from './fixtures.ts';
import { type HerokuWorld, startHerokuWorld } from './worlds.ts';

/** Heroku history scoped to the app, and a rollback to the release already running, through the bundle. */

let world: HerokuWorld;
let heroku: HerokuFake;
let github: GitHubFake;

beforeEach(async () => {
  world = await startHerokuWorld({ apps: ['web-prod', 'web-eu'], knobs: { buildLineIntervalMs: 1 } });
  ({ heroku, github } = world);
});
afterEach(() => world.stop());

function deploy(app: string, inputs: Record<string, string>): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: { ...world.inputs(), 'heroku-app': app, 'health-timeout': '20', ...inputs },
  });
}

it("refuses another app's deployment id; a rollback to the running release changes nothing", async () => {
  const prod = await deploy('web-prod', { 'source-url': 'https://example.test/app.tgz' });
  const eu = await deploy('web-eu', { 'source-url': 'https://example.test/app.tgz' });
  expect([prod.errors, eu.errors]).toEqual([[], []]);

  const refused = await deploy('web-prod', {
    operation: 'rollback',
    'rollback-to': eu.outputs['deployment-id']!,
  });
  expect(refused.code).toBe(1);
  expect(refused.errors[0]).toMatch(/which belongs to heroku app web-eu .*not to heroku app web-prod$/);

  const same = await deploy('web-prod', {
    operation: 'rollback',
    'rollback-to': prod.outputs['deployment-id']!,
  });
  expect(same.errors).toEqual([]);
  expect(same.outputs.status).toBe('unchanged');
  expect(same.stdout).toMatch(
    /^::notice::rollback to deploy_\w{8} changed nothing: heroku app web-prod already runs it/m,
  );
  expect(heroku.server.received('POST /apps/:app/releases')).toHaveLength(0);
  const record = github.deployments().at(-1)!;
  expect(statesOf(github, record.id)).toEqual(['in_progress', 'success']);
  expect(github.statusesOf(record.id)[1]!.description).toMatch(/^unchanged: already running release /);
  expectNoViolations(heroku.server, github.server);
});

it('a Heroku rollback to the release before without github-token reports no deploy tag (a rollback makes a release, not a build)', async () => {
  const first = await deploy('web-prod', {
    'source-url': 'https://example.test/app.tgz',
    'github-token': '',
  });
  const second = await deploy('web-prod', {
    'source-url': 'https://example.test/app2.tgz',
    'github-token': '',
  });
  expect([first.errors, second.errors]).toEqual([[], []]);
  expect(second.outputs['deploy-tag']).toMatch(/^deploy_[0-9a-f]{8}$/);
  const back = await deploy('web-prod', {
    operation: 'rollback',
    'rollback-to': 'previous',
    'github-token': '',
  });
  expect(back.errors).toEqual([]);
  expect(back.outputs.status).toBe('success');
  expect(back.outputs['deploy-tag']).toBe('');
  expect(back.stdout).toMatch(
    /^deploy-tag is empty: a Heroku rollback makes a release, not a build that deploy_[0-9a-f]{8} could name, and without github-token no GitHub deployment records it$/m,
  );
  expect(back.stdout).not.toMatch(/^rollback deploy_[0-9a-f]{8} to /m);
  expect(heroku.server.received('POST /apps/:app/releases')).toHaveLength(1);
});
