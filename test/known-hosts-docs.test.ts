import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import { knownHostsText } from '../src/providers/ssh/known-hosts.ts';
import { ROOT } from './helpers/run-bundle.ts';

/**
 * docs/troubleshooting.md "known_hosts for ssh targets" and the validator
 * (providers/ssh/known-hosts.ts) agree: every example line the page gives is
 * accepted, alone and as one pasted block, every form the page promises has an
 * example, and the refusal it quotes is the one the validator gives.
 */

const page = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
const section = page.slice(
  page.indexOf('## known_hosts for ssh targets'),
  page.indexOf('## Reading an error'),
);
const blocks = [...section.matchAll(/^```known_hosts\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
const examples = blocks.flatMap((b) => b.split('\n')).filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('known_hosts formats in docs/troubleshooting.md', () => {
  it('has example lines of every documented form', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples.some((l) => /^\d+\.\d+\.\d+\.\d+ /.test(l))).toBe(true);
    expect(examples.some((l) => /^[^ ]+,[^ ]+ /.test(l))).toBe(true);
    expect(examples.some((l) => /^\[[^\]]+\]:(?!22 )\d+ /.test(l))).toBe(true);
    expect(examples.some((l) => l.startsWith('|1|'))).toBe(true);
    expect(examples.some((l) => l.startsWith('@cert-authority '))).toBe(true);
    expect(examples.some((l) => l.startsWith('@revoked '))).toBe(true);
  });

  it.each(examples)('accepts %s', (line) => {
    expect(knownHostsText(line, 'ssh-known-hosts')).toBe(line);
  });

  it('accepts each example block as pasted, with CRLF endings too', () => {
    for (const block of blocks) {
      expect(knownHostsText(block, 'ssh-known-hosts')).toBe(block);
      expect(knownHostsText(block.replace(/\n/g, '\r\n'), 'ssh-known-hosts')).toBe(block);
    }
  });

  it('quotes the refusal of a public key pasted without its host as the validator words it', () => {
    const publicKeyOnly = examples[0]!.split(' ').slice(1).join(' ');
    const error = (() => {
      try {
        knownHostsText(publicKeyOnly, 'ssh-known-hosts');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(section).toContain(`::error::${(error as InputError).message}\n`);
  });

  it('shows how to get the line for a non-22 port with ssh-keyscan -p', () => {
    expect(section).toMatch(/^ssh-keyscan -p \d+ /m);
    expect(section).toMatch(/^ssh-keyscan -H -p \d+ /m);
  });
});
