import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real private keys made with the runner's `ssh-keygen` at test time, in every
 * format users paste: the text is exactly the file ssh-keygen wrote.
 */

export interface GeneratedKey {
  label: string;
  text: string;
  /** The `.pub` line of the same key. */
  publicKey: string;
}

/** A passphrase of the length ssh-keygen requires (5 characters or more). */
export const PASSPHRASE = 'correct horse';

function keygen(dir: string, name: string, args: string[], passphrase = ''): GeneratedKey {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', passphrase, '-C', `${name}@test`, '-f', file]);
  return {
    label: name,
    text: readFileSync(file, 'utf8'),
    publicKey: readFileSync(`${file}.pub`, 'utf8').trim(),
  };
}

let cached: ReturnType<typeof make> | undefined;

function make() {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-keys-'));
  try {
    return {
      /** Keys ssh loads as they are. */
      usable: [
        keygen(dir, 'openssh-ed25519', ['-t', 'ed25519']),
        keygen(dir, 'openssh-ecdsa', ['-t', 'ecdsa']),
        keygen(dir, 'openssh-rsa', ['-t', 'rsa', '-b', '2048']),
        keygen(dir, 'pem-rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']),
        keygen(dir, 'pem-ec', ['-t', 'ecdsa', '-m', 'PEM']),
        keygen(dir, 'pkcs8-rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8']),
        keygen(dir, 'pkcs8-ec', ['-t', 'ecdsa', '-b', '384', '-m', 'PKCS8']),
      ],
      /** The same formats behind a passphrase. */
      encrypted: [
        keygen(dir, 'openssh-ed25519-passphrase', ['-t', 'ed25519'], PASSPHRASE),
        keygen(dir, 'openssh-rsa-passphrase', ['-t', 'rsa', '-b', '2048'], PASSPHRASE),
        keygen(dir, 'pem-rsa-passphrase', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], PASSPHRASE),
        keygen(dir, 'pem-ec-passphrase', ['-t', 'ecdsa', '-m', 'PEM'], PASSPHRASE),
        keygen(dir, 'pkcs8-ec-passphrase', ['-t', 'ecdsa', '-m', 'PKCS8'], PASSPHRASE),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Generated once per test process (RSA keys take a moment). */
export function generatedKeys(): ReturnType<typeof make> {
  cached ??= make();
  return cached;
}

/** The lines between a key's BEGIN and END lines: what must never be printed. */
export function bodyLines(key: string): string[] {
  return key.split('\n').filter((line) => line !== '' && !line.startsWith('-----') && !line.includes(':'));
}
