import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';
import { bodyLines, generatedKeys } from '../helpers/ssh-keys.ts';
import { evidenceFiles, workspaceWith } from './helpers.ts';

/**
 * Issue 14, through the committed evidence bundle against the real loopback
 * sshd: keys as users paste them (CRLF, newlines turned into spaces, PEM),
 * keys refused before any connection naming `ssh-key` without quoting them,
 * and each way ssh fails to connect shown as an `error` row with ssh's own
 * reason. No run leaves its key file in RUNNER_TEMP.
 */

let sshd: Sshd;
const keys = generatedKeys();
const pemRsa = keys.usable.find((k) => k.label === 'pem-rsa')!;

beforeAll(async () => {
  sshd = await startSshd();
  // sshd reads authorized_keys at each login: the PEM key may log in too.
  appendFileSync(join(sshd.dir, 'authorized_keys'), `${pemRsa.publicKey}\n`);
});
afterAll(() => sshd?.stop());

const CHECKS = `
target: t1
checks:
  - id: whoami
    run: echo "logged in as $(id -un)"
`;

function evidence(inputs: Record<string, string>): Promise<BundleRun & { ws: string }> {
  const ws = workspaceWith(CHECKS);
  return runBundle('evidence', {
    cwd: ws,
    inputs: {
      milestone: 'm',
      upload: 'false',
      'ssh-host': sshd.target,
      'ssh-known-hosts': sshd.knownHosts,
      ...inputs,
    },
  }).then((run) => ({ ...run, ws }));
}

function keyFilesLeft(run: BundleRun): string[] {
  return readdirSync(join(run.dir, 'runner-temp')).filter((f) => f.startsWith('ops-ssh-'));
}

function quotes(run: BundleRun, key: string): string | undefined {
  return bodyLines(key).find((line) => run.everything.includes(line));
}

describe('keys as users paste them', () => {
  it.each([
    ['CRLF line endings', () => sshd.privateKey.replace(/\n/g, '\r\n')],
    ['newlines turned into spaces', () => sshd.privateKey.replace(/\n/g, ' ')],
    [
      'a PEM RSA key with newlines turned into spaces, indented',
      () => `  ${pemRsa.text.replace(/\n/g, ' ')}  `,
    ],
  ])('%s: the check runs on the host', async (_, key) => {
    const run = await evidence({ 'ssh-key': key() });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(run.ws)[0]!.text;
    expect(text).toMatch(/\| whoami \| whoami \| ✅ passed \| exit 0 \|/);
    expect(text).toContain(`logged in as ${sshd.user}`);
    expect(keyFilesLeft(run)).toEqual([]);
    expect(quotes(run, key())).toBeUndefined();
  });

  it.each([
    ['passphrase-protected OpenSSH', () => keys.encrypted[0]!.text, 'is protected by a passphrase'],
    [
      'passphrase-protected PEM',
      () => keys.encrypted[2]!.text.replace(/\n/g, ' '),
      'is protected by a passphrase',
    ],
    ['encrypted PKCS#8', () => keys.encrypted[4]!.text, 'is protected by a passphrase'],
    ['the public key', () => keys.usable[0]!.publicKey, 'is a public key'],
    ['cut short', () => sshd.privateKey.slice(0, 150), 'no END OPENSSH PRIVATE KEY line'],
    ['garbage', () => 'paste the key here', 'has no BEGIN line'],
  ])('%s: refused naming ssh-key before anything runs, the key not quoted', async (_, key, problem) => {
    const run = await evidence({ 'ssh-key': key() });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(/^Input 'ssh-key' /)]);
    expect(run.errors[0]).toContain(problem);
    expect(evidenceFiles(run.ws)).toEqual([]);
    expect(keyFilesLeft(run)).toEqual([]);
    expect(quotes(run, key())).toBeUndefined();
  });
});

describe("ssh's own reason in the row when it cannot connect", () => {
  it.each([
    [
      'host key mismatch',
      async () => ({ 'ssh-known-hosts': `[127.0.0.1]:${sshd.port} ${keys.usable[0]!.publicKey}` }),
      /Host key verification failed/,
    ],
    [
      'key not authorised',
      async () => ({ 'ssh-key': keys.usable[1]!.text }),
      /Permission denied \(publickey\)/,
    ],
    [
      'nothing listening',
      async () => ({ 'ssh-host': `${sshd.user}@127.0.0.1:${await freePort()}` }),
      /^ssh could not connect to 127\.0\.0\.1 port \d+ \(Connection refused\): nothing listens there: check the host and port in ssh-host and that sshd runs on it$/,
    ],
    [
      'a name DNS does not know',
      async () => ({ 'ssh-host': 'ops@no-such-host.invalid' }),
      /^ssh could not find host no-such-host\.invalid \([^)]+\): check the host name in ssh-host$/,
    ],
  ])('%s', async (_, overrides, reason) => {
    const run = await evidence({ 'ssh-key': sshd.privateKey, ...(await overrides()) });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const text = evidenceFiles(run.ws)[0]!.text;
    const row = text.split('\n').find((line) => line.startsWith('| whoami |'));
    const cells = row!.split(' | ');
    expect(cells.slice(0, 3)).toEqual(['| whoami', 'whoami', '⚠️ error']);
    expect(cells[3]).toMatch(/^ssh could not /);
    expect(cells[3]).toMatch(reason);
    expect(row).not.toMatch(/exit 255/);
    expect(keyFilesLeft(run)).toEqual([]);
    expect(quotes(run, sshd.privateKey)).toBeUndefined();
  });
});

describe('ssh-known-hosts as users paste them', () => {
  /** The sandbox host's line hashed as `ssh-keygen -H` writes it. */
  function hashedLine(): string {
    const file = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
    writeFileSync(file, `${sshd.knownHosts}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    return readFileSync(file, 'utf8').trim();
  }

  it('a hashed line with CRLF endings and a comment logs in', async () => {
    const hashed = hashedLine();
    expect(hashed).toMatch(/^\|1\|/);
    const run = await evidence({ 'ssh-key': sshd.privateKey, 'ssh-known-hosts': `# fleet\r\n${hashed}\r\n` });
    expect(run.errors).toEqual([]);
    expect(evidenceFiles(run.ws)[0]!.text).toMatch(/\| whoami \| whoami \| ✅ passed \| exit 0 \|/);
  });

  it('a @revoked key is refused by ssh itself, in the row', async () => {
    const run = await evidence({
      'ssh-key': sshd.privateKey,
      'ssh-known-hosts': `@revoked ${sshd.knownHosts}`,
    });
    expect(run.errors).toEqual([]);
    expect(evidenceFiles(run.ws)[0]!.text).toMatch(
      /\| whoami \| whoami \| ⚠️ error \| [^|]*Host key verification failed/,
    );
  });

  it('a malformed line is refused naming ssh-known-hosts and its line, before any connection', async () => {
    const publicKeyOnly = sshd.knownHosts.split(' ').slice(1).join(' ');
    const run = await evidence({
      'ssh-key': sshd.privateKey,
      'ssh-known-hosts': `${sshd.knownHosts}\r\n${publicKeyOnly}\r\n`,
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /ssh-known-hosts.*line 2 is not a known_hosts line: it starts with the key type/,
    );
    expect(evidenceFiles(run.ws)).toEqual([]);
    expect(keyFilesLeft(run)).toEqual([]);
  });
});
