import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseSshHost } from '../../src/core/inputs.ts';
import type { Line } from '../../src/core/message.ts';
import {
  acquireLock,
  adoptCommand,
  isEarlierAttempt,
  type LockOwner,
  ownerLine,
  parseAcquire,
  parseOwnerLine,
  type Remote,
} from '../../src/deploy/ssh/lock.ts';
import { releaseLock } from '../../src/deploy/ssh/release.ts';

/**
 * The lock commands run by a real `sh` against a HOME of their own (what sshd
 * would run them with): a re-run adopts the lock its earlier attempt left,
 * nothing else does.
 */

const ME: LockOwner = {
  token: 'tok-attempt-2',
  repository: 'acme/fleet',
  run: '4242',
  attempt: '2',
  job: 'deploy',
  actor: 'octocat',
  time: '2026-01-01T00:10:00.000Z',
};
const EARLIER = { ...ME, token: 'tok-attempt-1', attempt: '1', time: '2026-01-01T00:00:00.000Z' };

describe('isEarlierAttempt', () => {
  const cases: [string, Partial<LockOwner>, Partial<LockOwner>, boolean][] = [
    ['attempt 1 of this run and job, we are attempt 2', {}, {}, true],
    ['attempt 1, we are attempt 3', {}, { attempt: '3' }, true],
    ['the same attempt: a matrix leg of this job running beside us', { attempt: '2' }, {}, false],
    ['a later attempt', { attempt: '3' }, {}, false],
    ['another run', { run: '4241' }, {}, false],
    ['another job of the run', { job: 'deploy-eu' }, {}, false],
    ['another repository', { repository: 'acme/other' }, {}, false],
    ['holder names no job', { job: undefined }, {}, false],
    ['outside Actions: we name no run', { run: undefined }, { run: undefined }, false],
    ['holder attempt missing counts as 1', { attempt: undefined }, {}, true],
    ['holder attempt not a number', { attempt: 'x' }, {}, false],
  ];
  for (const [name, holder, me, adopted] of cases)
    it(`${adopted ? 'adopts' : 'waits'}: ${name}`, () =>
      expect(isEarlierAttempt(parseOwnerLine(ownerLine({ ...EARLIER, ...holder })), { ...ME, ...me })).toBe(
        adopted,
      ));
});

describe('isEarlierAttempt, generated owners', () => {
  // Repository names, run ids and job ids as GitHub allows them: no whitespace, no `=`.
  const name = fc.stringMatching(/^[A-Za-z0-9_./-]{1,20}$/);
  const owner = fc.record({
    token: fc.uuid(),
    repository: fc.constantFrom('acme/fleet', 'acme/other'),
    run: fc.constantFrom('4242', '4243'),
    attempt: fc.integer({ min: 1, max: 5 }).map(String),
    job: fc.oneof(fc.constantFrom('deploy', 'deploy-eu'), name),
    time: fc.constant('2026-01-01T00:00:00.000Z'),
  });

  it('adopts exactly when repository, run and job match and the holder attempt is lower, through the owner line', () => {
    fc.assert(
      fc.property(owner, owner, (holder, me) => {
        const expected =
          holder.repository === me.repository &&
          holder.run === me.run &&
          holder.job === me.job &&
          Number(holder.attempt) < Number(me.attempt);
        expect(isEarlierAttempt(parseOwnerLine(ownerLine(holder)), me)).toBe(expected);
      }),
    );
  });
});

let home: string;
let lockFile: string;
const host = parseSshHost('hosts', 'deploy@127.0.0.1:22');

/** Runs each command with `sh`, as sshd would on the host. */
const local: Remote = {
  async run(_host, command) {
    const r = spawnSync('sh', ['-c', `exec 2>&1; ${command}`], {
      env: { PATH: process.env.PATH, HOME: home },
    });
    return {
      code: r.status ?? 255,
      output: r.stdout.toString(),
      shown: r.stdout.toString(),
      timedOut: false,
    };
  },
};
const sh = async (command: string) => (await local.run(host, command)).output;
const writeLock = (owner: LockOwner) => writeFileSync(lockFile, `${ownerLine(owner)} \n`);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'lock-home-'));
  mkdirSync(join(home, '.ops-actions', 'locks'), { recursive: true });
  lockFile = join(home, '.ops-actions', 'locks', 'web.lock');
});

describe('adoptCommand', () => {
  it('replaces the lock that still names the token it saw, and leaves nothing aside', async () => {
    writeLock(EARLIER);
    expect(parseAcquire(await sh(adoptCommand('web', ME, EARLIER.token)))).toEqual({ kind: 'adopted' });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${ownerLine(ME)} \n`);
    expect(await sh('ls -A "$HOME/.ops-actions/locks"')).toBe('web.lock\n');
  });

  it('puts back a lock that changed hands since, and says who holds it', async () => {
    const other = { ...EARLIER, token: 'tok-other', run: '99' };
    writeLock(other);
    expect(parseAcquire(await sh(adoptCommand('web', ME, EARLIER.token)))).toEqual({
      kind: 'held',
      owner: ownerLine(other),
    });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${ownerLine(other)} \n`);
    expect(await sh('ls -A "$HOME/.ops-actions/locks"')).toBe('web.lock\n');
  });

  it('takes nothing when the lock is gone by then', async () => {
    expect(parseAcquire(await sh(adoptCommand('web', ME, EARLIER.token)))).toEqual({
      kind: 'held',
      owner: '',
    });
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe('acquireLock', () => {
  const options = { timeoutMs: 300, pollMs: 100 };

  it("adopts its earlier attempt's lock at once, and can then release it", async () => {
    writeLock(EARLIER);
    const r = await acquireLock(local, host, 'web', ME, options);
    expect(r).toMatchObject({ acquired: true, adopted: ownerLine(EARLIER) });
    expect(readFileSync(lockFile, 'utf8')).toContain(`token=${ME.token} `);
    const lines: string[] = [];
    const log = { info: (l: string) => lines.push(l), warning: (l: string) => lines.push(`warning ${l}`) };
    expect(
      await releaseLock(log, local, { host: 'deploy@127.0.0.1:22', service: 'web', token: ME.token }),
    ).toBe('released');
    expect(existsSync(lockFile)).toBe(false);
  });

  it('waits for a matrix leg of the same attempt, and gives up at the timeout', async () => {
    const sibling = { ...ME, token: 'tok-sibling' };
    writeLock(sibling);
    const r = await acquireLock(local, host, 'web', ME, options);
    expect(r).toMatchObject({ acquired: false, owner: ownerLine(sibling) });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${ownerLine(sibling)} \n`);
  });

  it("waits for another run's lock", async () => {
    const other = { ...EARLIER, run: '4000' };
    writeLock(other);
    expect(await acquireLock(local, host, 'web', ME, options)).toMatchObject({ acquired: false });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${ownerLine(other)} \n`);
  });
});

describe('releasing a lock that was never taken', () => {
  it('tells nobody to remove anything when the host cannot be reached', async () => {
    const lines: string[] = [];
    const log = {
      info: (l: Line) => lines.push(String(l)),
      warning: (l: Line) => lines.push(`warning ${l}`),
    };
    const unreachable: Remote = {
      run: async () => ({
        code: 255,
        output: 'ssh: connect to host 127.0.0.1 port 9: Connection refused\n',
        shown: 'ssh: connect to host 127.0.0.1 port 9: Connection refused',
        timedOut: false,
      }),
    };
    const lock = { host: 'deploy@127.0.0.1:9', service: 'web', token: 't' };
    expect(await releaseLock(log, unreachable, { ...lock, taken: false })).toBe('failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Could not check the web deploy lock .* never got an answer that it took it/);
    expect(lines.join('\n')).not.toMatch(/remove/i);
    // A lock this run did take still gets the advice.
    await releaseLock(log, unreachable, { ...lock, taken: true });
    expect(lines[1]).toMatch(
      /^warning Could not release .*Remove ~\/\.ops-actions\/locks\/web\.lock there by hand/,
    );
  });
});
