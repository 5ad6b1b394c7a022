import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { couldBeCommand, guardCommands } from '../../src/core/command-guard.ts';
import { injectedCommands, obeyedCommands } from '../helpers/runner-commands.ts';

/** Issue 12 §6: third-party text is shown by the runner and never obeyed. */

const HOSTILE = [
  '::stop-commands::x',
  '::add-mask::y',
  '::error::z',
  '##[error]z',
  '  ::error::z',
  '\t::warning file=a::z',
  '\u00a0\u2003::add-mask::y',
  'build step ##[add-mask]y',
  '::ADD-MASK::y',
  'progress 10%\r::error::after a carriage return',
  '::set-output name=x::1',
  '::save-state name=x::1',
  '::group::g',
];

describe('the test parser follows the runner', () => {
  it.each(HOSTILE)('obeys %j when printed as is', (line) => {
    expect(obeyedCommands(`${line}\n`).length).toBeGreaterThan(0);
  });

  it('ignores everything between stop-commands and its token, then resumes', () => {
    const obeyed = obeyedCommands('::stop-commands::tok\n::error::a\n##[error]b\n::tok::\n::error::c\n');
    expect(obeyed.map((c) => c.command)).toEqual(['stop-commands', 'tok', 'error']);
  });

  it('does not obey unregistered names or text without the markers', () => {
    expect(obeyedCommands('::nope::x\nFoo::Bar::baz\nIPv6 ::1\n## [error] spaced\n')).toEqual([]);
  });
});

describe('guardCommands', () => {
  it.each(HOSTILE)('%j is shown, not obeyed', (line) => {
    const printed = `${guardCommands(line)}\n`;
    expect(injectedCommands(printed)).toEqual([]);
    expect(printed).toContain(line);
  });

  it('leaves ordinary lines as they are', () => {
    for (const line of ['-----> Building', 'Bundler::GemNotFound at app.rb:3', 'IPv6 [::1]:80', 'a :: b'])
      expect(guardCommands(line)).toBe(line);
  });

  it('draws a fresh token each time, never one the text holds', () => {
    const a = guardCommands('::error::x');
    const b = guardCommands('::error::x');
    expect(a).not.toBe(b);
    const token = /^::stop-commands::(\S+)\n/.exec(a)![1]!;
    expect(guardCommands(`::error::x ::${token}::`)).not.toContain(`::stop-commands::${token}\n`);
  });

  const piece = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      '::',
      '##[',
      ']',
      ' ',
      '\t',
      '\u00a0',
      '\u3000',
      '\r',
      '\n',
      '\r\n',
      'error',
      'add-mask',
      'stop-commands',
      'ops-',
      '::add-mask::',
      '##[error]',
    ),
  );
  const text = fc.array(piece, { maxLength: 30 }).map((p) => p.join(''));

  it('no generated text makes the runner obey anything once guarded', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(injectedCommands(`${guardCommands(t)}\n`)).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('guards exactly what the runner could obey', () => {
    fc.assert(
      fc.property(text, (t) => {
        if (obeyedCommands(t).length > 0) expect(couldBeCommand(t)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a guarded stream of lines, printed one after another, obeys nothing', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 10 }), (lines) => {
        const printed = lines.map((l) => `${guardCommands(l)}\n`).join('');
        expect(injectedCommands(printed)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
