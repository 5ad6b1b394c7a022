import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDigitalOceanFake, digitalOceanRateLimited } from '../../sandbox/fakes/digitalocean.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations } from './fixtures.ts';

/**
 * DigitalOcean's two rate limits met by a deploy's droplet discovery, through the committed
 * bundle: the 250-a-minute burst limit (hourly quota left) waited out with godo's 1 s backoff
 * and logged; then the hourly limit, whose `ratelimit-reset` lies past the input lock-timeout,
 * failing at once with one error naming DigitalOcean, the limit and the bound, before any host
 * is contacted.
 */

const DO_TOKEN = 'canary-do-rate-limit-token';
const fake = createDigitalOceanFake({ token: DO_TOKEN });
let keyDir: string;
let key: string;

beforeAll(async () => {
  await fake.start();
  fake.addDroplet({ name: 'web-1', tags: ['deployed-via-api'], publicIp: '127.0.0.1' });
  keyDir = mkdtempSync(join(tmpdir(), 'do-rate-limit-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
  key = readFileSync(join(keyDir, 'id'), 'utf8');
});
afterAll(async () => {
  await fake.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('DigitalOcean rate limits in a deploy', () => {
  it('waits out the burst limit, then fails at once on the hourly limit past the lock-timeout', async () => {
    fake.server.inject({ route: 'droplets_list', fault: digitalOceanRateLimited({ burst: true }) });
    fake.server.inject({
      route: 'droplets_list',
      times: Number.POSITIVE_INFINITY,
      fault: digitalOceanRateLimited({ resetInS: 3600 }),
    });
    const run = await runBundle('deploy', {
      env: { OPS_ACTIONS_TEST_WAIT_SCALE: '0.01' },
      inputs: {
        target: 'ssh',
        service: 'web',
        image: '127.0.0.1:1/shop/web:v1',
        'tag-image': 'false',
        'ssh-key': key,
        'ssh-known-hosts':
          '127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
        'digitalocean-token': DO_TOKEN,
        'digitalocean-api-url': `${fake.server.url}/v2`,
        'lock-timeout': '30',
      },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^rate limited by DigitalOcean, waiting 1(\.\d)? s \(HTTP 429, burst limit of 250 requests a minute \(ratelimit-remaining 4750\); [\w.]+\)$/m,
    );
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /rate limited by DigitalOcean past the input lock-timeout \(HTTP 429, hourly limit: ratelimit-remaining 0, ratelimit-reset \S+: waiting 3\d{3} s would pass it, (\d+ s left|at most 30 s of waits in all, [\d.]+ s already waited)\)/,
    );
    expect(fake.server.received('droplets_list').map((r) => r.status)).toEqual([429, 429]);
    expectNoSecrets(run);
    expect(run.everything).not.toContain(DO_TOKEN);
    expectNoViolations(fake.server);
  });
});
