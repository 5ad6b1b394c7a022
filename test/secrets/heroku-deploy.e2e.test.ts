import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HerokuFake } from '../../sandbox/fakes/heroku.ts';
import { expectNoSecrets } from '../deploy/fixtures.ts';
import { type HerokuWorld, startHerokuWorld } from '../deploy/worlds.ts';
import { type BundleRun, runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';
import { injectedCommands } from '../helpers/runner-commands.ts';

/** Issue 12 through the committed deploy bundle on Heroku: build output and the source URL. */

let world: HerokuWorld;
let heroku: HerokuFake;

beforeEach(async () => {
  world = await startHerokuWorld({ knobs: { buildLineIntervalMs: 10 } });
  ({ heroku } = world);
});
afterEach(() => world.stop());

function deploy(sourceUrl: string): Promise<BundleRun> {
  return runBundle('deploy', {
    env: UNSPACED_GITHUB_WRITES,
    inputs: { ...world.inputs(), 'heroku-app': 'web-prod', 'health-timeout': '20', 'source-url': sourceUrl },
  });
}

describe('heroku deploy: issue 12', () => {
  it('shows workflow commands printed by the build but never lets the runner obey them', async () => {
    const hostile = [
      '  ::add-mask::x',
      '::error::z',
      '##[error]z',
      '::stop-commands::x',
      '::error::after-stop',
    ];
    heroku.knobs.buildLines = ['-----> Building', ...hostile, '-----> Done'];
    const run = await deploy('https://example.test/app.tgz');
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    for (const line of hostile) expect(run.stdout).toContain(line.trim());
    expect(injectedCommands(run.stdout).filter((c) => /\b[xz]$|after-stop/.test(c.line))).toEqual([]);
  });

  it('never prints the signature or token of a presigned source-url', async () => {
    const signature = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
    const token = 'tok-canary-0123456789abcdef';
    const url = `https://bucket.s3.amazonaws.com/app.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${signature}&token=${token}`;
    const run = await deploy(url);
    expect(run.errors).toEqual([]);
    const posted = heroku.server.received('POST /apps/:app/builds')[0]!.json as {
      source_blob: { url: string };
    };
    expect(posted.source_blob.url).toBe(url);
    for (const value of [signature, token]) expect(run.everything).not.toContain(value);
    expectNoSecrets(run);
  });
});
