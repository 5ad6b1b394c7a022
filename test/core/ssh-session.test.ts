import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../sandbox/sshd.ts';
import { parseSshHost } from '../../src/core/inputs.ts';
import { Redactor } from '../../src/core/redact.ts';
import { SshSession } from '../../src/providers/ssh/session.ts';

describe('SshSession against a real sshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd?.stop());

  it('runs a command with output interleaved and streamed line by line, key file 0600 and removed', async () => {
    const session = await SshSession.open(
      { key: sshd.privateKey, knownHosts: sshd.knownHosts },
      mkdtempSync(join(tmpdir(), 'rt-')),
    );
    const keyFile = session.args(parseSshHost('h', sshd.target)).at(-2)!;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const lines: string[] = [];
    const result = await session.run(
      parseSshHost('h', sshd.target),
      'echo out; echo err >&2; echo done; exit 3',
      {
        onLine: (l) => lines.push(l),
      },
    );
    expect(result).toEqual({
      code: 3,
      output: 'out\nerr\ndone\n',
      shown: 'out\nerr\ndone',
      sshErrors: '',
      timedOut: false,
    });
    expect(lines).toEqual(['out', 'err', 'done']);
    await session.close();
    expect(() => statSync(keyFile)).toThrow();
  });

  it('decodes a character split across two chunks whole, and redacts a secret split across them', async () => {
    const redactor = new Redactor();
    redactor.addLiteral('pässwörd-geheim-42');
    const session = await SshSession.open(
      { key: sshd.privateKey, knownHosts: sshd.knownHosts },
      mkdtempSync(join(tmpdir(), 'rt-')),
      { redactor },
    );
    const lines: string[] = [];
    // `ä` is c3 a4: the first byte ends one write, the second starts the next.
    const result = await session.run(
      parseSshHost('h', sshd.target),
      "printf 'pw=p\\303'; sleep 0.3; printf '\\244sswörd-geheim-42 ok\\nnext\\n'",
      { onLine: (l) => lines.push(l) },
    );
    expect(result.output).toBe('pw=pässwörd-geheim-42 ok\nnext\n');
    expect(lines).toEqual(['pw=[REDACTED:secret] ok', 'next']);
    expect(result.shown).toBe('pw=[REDACTED:secret] ok\nnext');
    await session.close();
  });

  it('refuses a host whose key is not given, without trust on first use', async () => {
    const session = await SshSession.open(
      { key: sshd.privateKey, knownHosts: '# none' },
      mkdtempSync(join(tmpdir(), 'rt-')),
    );
    const result = await session.run(parseSshHost('h', sshd.target), 'echo should-not-run');
    expect(result.code).toBe(255);
    expect(result.output).toContain('Host key verification failed');
    expect(result.sshErrors).toContain('Host key verification failed');
    await session.close();
  });

  it('cuts a command at its timeout', async () => {
    const session = await SshSession.open(
      { key: sshd.privateKey, knownHosts: sshd.knownHosts },
      mkdtempSync(join(tmpdir(), 'rt-')),
    );
    const result = await session.run(parseSshHost('h', sshd.target), 'sleep 20', { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    await session.close();
  });
});
