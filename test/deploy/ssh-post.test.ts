import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { ownerLine } from '../../src/deploy/ssh/lock.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * The committed post bundle (dist/deploy/post) as the runner runs it after a
 * cancelled or killed main step: it gets the main step's saved `locks` state
 * and the same inputs, and releases the locks that still carry this run's token.
 */

const LOCK_DIR = join(homedir(), '.ops-actions', 'locks');

/** The post step's own JSONL log in RUNNER_TEMP (a post step has no outputs to announce it). */
function postLog(dir: string): Record<string, unknown>[] {
  const logs = join(dir, 'runner-temp', 'ops-actions');
  return readdirSync(logs)
    .filter((f) => f.startsWith('deploy-post-'))
    .flatMap((f) => readFileSync(join(logs, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('deploy post step releases the locks a killed run left', () => {
  let sshd: Sshd;
  const files: string[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
    for (const f of files) rmSync(f, { force: true });
  });

  const lockFile = (service: string) => {
    const file = join(LOCK_DIR, `${service}.lock`);
    files.push(file);
    return file;
  };

  const inputs = () => ({
    target: 'ssh',
    hosts: sshd.target,
    service: 'web',
    image: '127.0.0.1:5000/shop/web:v1',
    'ssh-key': sshd.privateKey,
    'ssh-known-hosts': sshd.knownHosts,
    'registry-username': 'deployer',
    'registry-password': 'canary-post-registry-pw',
    'digitalocean-token': 'canary-post-do-token',
  });

  it('removes our lock, leaves a lock that another run holds now, and prints no secret', async () => {
    const ours = `postours${process.pid}`;
    const theirs = `posttheirs${process.pid}`;
    const token = '0b5e0b6e-1111-4222-8333-944455556666';
    writeFileSync(
      lockFile(ours),
      `${ownerLine({ token, repository: 'acme/fleet', run: '4242', time: new Date().toISOString() })} \n`,
    );
    const foreign = `${ownerLine({ token: 'other-run', repository: 'acme/fleet', run: '4243', time: new Date().toISOString() })} \n`;
    writeFileSync(lockFile(theirs), foreign);
    const run = await runBundle('deploy', {
      entry: 'post',
      inputs: inputs(),
      state: {
        locks: JSON.stringify([
          { host: sshd.target, service: ours, token },
          { host: sshd.target, service: theirs, token },
        ]),
      },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Released the ${ours} deploy lock on ${sshd.target}.`);
    expect(run.stdout).toContain(
      `The ${theirs} deploy lock on ${sshd.target} now belongs to acme/fleet run 4243`,
    );
    expect(existsSync(lockFile(ours))).toBe(false);
    expect(readFileSync(lockFile(theirs), 'utf8')).toBe(foreign);
    expect(
      postLog(run.dir)
        .filter((e) => e.step === 'ssh.unlock')
        .map((e) => e.detail),
    ).toEqual(['released', 'other']);
    for (const secret of [
      'canary-post-registry-pw',
      'canary-post-do-token',
      sshd.privateKey.split('\n')[1]!,
    ]) {
      expect(run.everything).not.toContain(secret);
    }
  });

  it('is a no-op when the main step released everything itself', async () => {
    const run = await runBundle('deploy', { entry: 'post', inputs: inputs(), state: { locks: '[]' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No deploy locks left to release.');
  });

  it('says so, as a warning, when a host cannot be reached', async () => {
    const run = await runBundle('deploy', {
      entry: 'post',
      inputs: { ...inputs(), 'ssh-known-hosts': '# nothing trusted' },
      state: { locks: JSON.stringify([{ host: sshd.target, service: 'web', token: 't' }]) },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /::warning::Could not release the web deploy lock on .*Host key verification failed/,
    );
    expect(run.everything).not.toContain(sshd.privateKey.split('\n')[1]!);
  });
});
