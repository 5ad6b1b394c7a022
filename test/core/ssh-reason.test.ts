import { describe, expect, it } from 'vitest';
import { sshFailure, sshReason, unreachable } from '../../src/providers/ssh/ssh-reason.ts';

/** What OpenSSH 9.2 printed on stderr in each case (captured against the sandbox sshd), and the reason kept. */
const CHANGED = [
  '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
  '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
  '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
  'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
  'Offending ED25519 key in /tmp/ops-deploy-DR0XdZ/runner-temp/ops-ssh-dUgD1c/known_hosts:1',
  '  remove with:',
  '  ssh-keygen -f "/tmp/ops-deploy-DR0XdZ/runner-temp/ops-ssh-dUgD1c/known_hosts" -R "[127.0.0.1]:44109"',
  'Host key for [127.0.0.1]:44109 has changed and you have requested strict checking.',
  'Host key verification failed.',
  '',
].join('\r\n');

describe('sshReason', () => {
  it.each([
    ['nothing printed', '', ''],
    [
      'host key changed',
      CHANGED,
      'Host key verification failed. The host key of [127.0.0.1]:44109 is not the one ssh-known-hosts gives.',
    ],
    [
      'host key unknown',
      'No ED25519 host key is known for [127.0.0.1]:34869 and you have requested strict checking.\r\nHost key verification failed.\r\n',
      'Host key verification failed. ssh-known-hosts has no ED25519 key for [127.0.0.1]:34869.',
    ],
    [
      'key not loaded',
      'Load key "/tmp/r/runner-temp/ops-ssh-AbC123/id": error in libcrypto\r\nroot@127.0.0.1: Permission denied (publickey).\r\n',
      'Load key (ssh-key): error in libcrypto / root@127.0.0.1: Permission denied (publickey).',
    ],
    [
      'key refused',
      'root@127.0.0.1: Permission denied (publickey).\r\n',
      'root@127.0.0.1: Permission denied (publickey).',
    ],
    [
      'nothing listening',
      'ssh: connect to host 127.0.0.1 port 9: Connection refused\r\n',
      'ssh: connect to host 127.0.0.1 port 9: Connection refused',
    ],
    [
      'unknown name',
      'ssh: Could not resolve hostname no-such.invalid: Name or service not known\r\n',
      'ssh: Could not resolve hostname no-such.invalid: Name or service not known',
    ],
    [
      'cut stderr',
      'ssh: connect to host h port 22: Connection timed out\n[output over 16384 bytes: …]',
      'ssh: connect to host h port 22: Connection timed out',
    ],
  ])('%s', (_, stderr, reason) => expect(sshReason(stderr)).toBe(reason));

  it('ssh failed only on exit 255 with a message of its own, not on a timeout', () => {
    const refused = 'root@h: Permission denied (publickey).\n';
    expect(sshFailure({ code: 255, timedOut: false, sshErrors: refused })).toBe(
      'root@h: Permission denied (publickey).',
    );
    expect(sshFailure({ code: 255, timedOut: false, sshErrors: '' })).toBeUndefined();
    expect(sshFailure({ code: 1, timedOut: false, sshErrors: refused })).toBeUndefined();
    expect(sshFailure({ code: 255, timedOut: true, sshErrors: refused })).toBeUndefined();
  });
});

describe('unreachable: one sentence naming host, port and what to check', () => {
  it.each([
    [
      'ssh: connect to host 127.0.0.1 port 9: Connection refused',
      'ssh could not connect to 127.0.0.1 port 9 (Connection refused): nothing listens there: check the host and port in ssh-host and that sshd runs on it',
    ],
    [
      'ssh: connect to host h.example port 2222: Connection timed out',
      'ssh could not connect to h.example port 2222 (Connection timed out): check the host and port in ssh-host and that a firewall lets the runner reach it',
    ],
    [
      'ssh: connect to host 10.0.0.9 port 22: No route to host',
      'ssh could not connect to 10.0.0.9 port 22 (No route to host): check the host and port in ssh-host and that a firewall lets the runner reach it',
    ],
    [
      'ssh: Could not resolve hostname no-such.invalid: Name or service not known',
      'ssh could not find host no-such.invalid (Name or service not known): check the host name in ssh-host',
    ],
    ['root@h: Permission denied (publickey).', undefined],
    ['Host key verification failed.', undefined],
  ])('%s', (reason, sentence) => expect(unreachable(reason, 'ssh-host')).toBe(sentence));
});
