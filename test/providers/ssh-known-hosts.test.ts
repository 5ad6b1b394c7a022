import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { knownHostsText } from '../../src/providers/ssh/known-hosts.ts';

// Public host keys as ssh-keyscan prints them (their wire form names their type).
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const HASHED = '|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM=';

const refusal = (text: string): string | undefined => {
  try {
    knownHostsText(text, 'ssh-known-hosts');
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
};

describe('knownHostsText', () => {
  it.each([
    ['plain host', `host.example ssh-ed25519 ${ED25519}`],
    ['host with port and a comment', `[127.0.0.1]:2222 ssh-ed25519 ${ED25519} root@vm`],
    [
      'several patterns with a wildcard and a negation',
      `*.example.com,!bad.example.com,10.0.0.1 ssh-ed25519 ${ED25519}`,
    ],
    ['hashed (ssh-keygen -H)', `${HASHED} ssh-ed25519 ${ED25519}`],
    ['@cert-authority', `@cert-authority *.example.com ssh-ed25519 ${ED25519}`],
    ['@revoked', `@revoked * ssh-ed25519 ${ED25519}`],
    ['comments, blank lines and CRLF', `# fleet\r\n\r\nhost.example ssh-ed25519 ${ED25519}\r\n`],
  ])('accepts %s', (_name, text) => {
    expect(refusal(text)).toBeUndefined();
    expect(knownHostsText(text, 'ssh-known-hosts')).not.toContain('\r');
  });

  it.each([
    ['a public key alone', `ssh-ed25519 ${ED25519} root@vm`, 'line 1', 'the host names come first'],
    ['hosts only', 'host.example', 'line 1', 'it needs hosts, a key type and a key'],
    ['unknown marker', `@trusted host ssh-ed25519 ${ED25519}`, 'line 1', 'unknown marker "@trusted"'],
    ['marker without key', '@cert-authority *.example.com ssh-ed25519', 'line 1', 'it needs hosts'],
    ['broken hash', `|1|abc host ssh-ed25519 ${ED25519}`, 'line 1', 'neither host patterns'],
    ['type and key disagree', `h ssh-rsa ${ED25519}`, 'line 1', 'not a base64 ssh-rsa key'],
    ['key cut short', `h ssh-ed25519 AAAAC3Nz`, 'line 1', 'not a base64 ssh-ed25519 key'],
    [
      'second line bad, CRLF',
      `h ssh-ed25519 ${ED25519}\r\nh ssh-ed25519 not*base64\r\n`,
      'line 2',
      'not a base64',
    ],
  ])('refuses %s naming the input and the line', (_name, text, line, problem) => {
    const message = refusal(text);
    expect(message).toContain('ssh-known-hosts');
    expect(message).toContain(`${line} is not a known_hosts line`);
    expect(message).toContain(problem);
  });
});
