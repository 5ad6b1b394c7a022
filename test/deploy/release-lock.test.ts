import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * `operation: release-lock` through the committed bundle against a real sshd: this service's
 * stale deploy lock is shown (dry run), released, and then reported as gone; another service's
 * lock on the same host, and a file there that this action did not write, are never touched.
 */

const LOCKS = join(homedir(), '.ops-actions', 'locks');
const SERVICE = `relock${process.pid}`;
const OTHER = `${SERVICE}-other`;
const FOREIGN = `${SERVICE}-foreign`;
const lockOf = (service: string) => join(LOCKS, `${service}.lock`);
const STALE =
  'token=0b9c1d2e repository=acme/web run=4242 attempt=1 job=deploy actor=octocat time=2026-01-02T03:04:05Z\n';

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
  mkdirSync(LOCKS, { recursive: true });
}, 60_000);
afterAll(async () => {
  for (const s of [SERVICE, OTHER, FOREIGN]) rmSync(lockOf(s), { force: true });
  await sshd?.stop();
});

const inputs = (service: string, extra: Record<string, string> = {}) => ({
  operation: 'release-lock',
  target: 'ssh',
  hosts: sshd.target,
  'ssh-key': sshd.privateKey,
  'ssh-known-hosts': sshd.knownHosts,
  service,
  environment: 'staging',
  ...extra,
});

describe('operation: release-lock (ssh)', () => {
  it("shows the stale lock on a dry run, releases it, then says there is none; another service's lock stays", async () => {
    writeFileSync(lockOf(SERVICE), STALE);
    writeFileSync(lockOf(OTHER), STALE.replace('0b9c1d2e', 'feedbeef'));

    const dry = await runBundle('deploy', { inputs: inputs(SERVICE, { 'dry-run': 'true' }) });
    expect(dry.errors).toEqual([]);
    expect(dry.outputs.status).toBe('planned');
    expect(dry.stdout).toContain(
      `${sshd.target}: would release the ${SERVICE} deploy lock, held by acme/web run 4242.1 job deploy by octocat, since 2026-01-02T03:04:05Z`,
    );
    expect(dry.summary).toContain('would release');
    expect(readFileSync(lockOf(SERVICE), 'utf8')).toBe(STALE);

    const run = await runBundle('deploy', { inputs: inputs(SERVICE) });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(run.stdout).toContain(
      `${sshd.target}: released the ${SERVICE} deploy lock, held by acme/web run 4242.1`,
    );
    expect(run.summary).toMatch(/<td>released<\/td>/);
    expect(existsSync(lockOf(SERVICE))).toBe(false);
    // Another service's lock on the same host is not this operation's business.
    expect(readFileSync(lockOf(OTHER), 'utf8')).toContain('token=feedbeef');
    // Nothing of a deploy happened: no deployment, no image, no deploy tag.
    expect(run.outputs['deployment-id']).toBeUndefined();
    expect(run.outputs['deploy-tag']).toBeUndefined();
    expect(run.log.some((e) => e.step === 'ssh.release-lock' && e.outcome === 'ok')).toBe(true);

    const again = await runBundle('deploy', { inputs: inputs(SERVICE) });
    expect(again.code).toBe(0);
    expect(again.outputs.status).toBe('unchanged');
    expect(again.stdout).toContain(
      `::notice::release-lock changed nothing: no host held a ${SERVICE} deploy lock`,
    );
  }, 60_000);

  it('leaves a file it did not write alone', async () => {
    writeFileSync(lockOf(FOREIGN), 'held by hand\n');
    const run = await runBundle('deploy', { inputs: inputs(FOREIGN) });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('unchanged');
    expect(run.stdout).toContain('holds no owner line that this action writes; left alone');
    expect(readFileSync(lockOf(FOREIGN), 'utf8')).toBe('held by hand\n');
  }, 60_000);

  it('a host it cannot reach fails the step, naming the host and what could not be done', async () => {
    const run = await runBundle('deploy', {
      inputs: inputs(SERVICE, {
        'ssh-known-hosts': sshd.knownHosts.replace(/AAAA\S+/, `AAAAC3NzaC1lZDI1NTE5AAAAI${'B'.repeat(43)}`),
      }),
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      new RegExp(`^Could not release the ${SERVICE} deploy lock on ${sshd.target.replace(/[.]/g, '\\.')}: `),
    );
    expect(run.outputs.status).toBe('failed');
  }, 60_000);

  it.each([
    [
      'fly',
      { 'fly-app': 'smooth', 'fly-api-token': 'fm2_releaseLockRefused0123456789' },
      'Fly leases expire on their own',
    ],
    [
      'heroku',
      { 'heroku-app': 'web', 'heroku-api-key': 'HRKU-releaseLockRefused0123456789' },
      'Heroku deploys take no lock',
    ],
  ])('is refused for target %s, before any request', async (target, extra, why) => {
    const run = await runBundle('deploy', { inputs: { operation: 'release-lock', target, ...extra } });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(/^Input 'operation' release-lock is for target ssh/)]);
    expect(run.errors[0]).toContain(why);
  });
});
