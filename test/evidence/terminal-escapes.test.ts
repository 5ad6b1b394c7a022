import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withoutTerminalEscapes } from '../../src/evidence/collect.ts';

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

/** Text a check prints between sequences: printable, with newlines and tabs, never ESC, BEL or C1. */
const plain = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\n', '\t', ' ', '[', ']', ';', 'm', '\\', 'é', '✓'),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  ),
});
const params = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 5 }).map((p) => p.join(';'));
const csi = fc
  .tuple(fc.constantFrom('', '?'), params, fc.constantFrom('m', 'K', 'H', 'J', 'A', 'h', 'l'))
  .map(([private_, p, final]) => `${ESC}[${private_}${p}${final}`);
const url = fc.webUrl();
const terminator = fc.constantFrom(BEL, ST);
const osc = fc.oneof(
  fc
    .tuple(fc.constantFrom('0', '2'), fc.string({ unit: fc.constantFrom('a', 'b', ' ', '-') }), terminator)
    .map(([kind, title, end]) => `${ESC}]${kind};${title}${end}`),
  // An OSC 8 hyperlink opening (with its URL) or closing (empty URL).
  fc.tuple(url, terminator).map(([u, end]) => `${ESC}]8;;${u}${end}`),
  terminator.map((end) => `${ESC}]8;;${end}`),
);
const sequence = fc.oneof(csi, osc);

describe('withoutTerminalEscapes', () => {
  it.each([
    ['colour', `${ESC}[1;32mgreen${ESC}[0m ok`, 'green ok'],
    ['OSC 8 link ended by BEL', `${ESC}]8;;https://ex.example/a?b=1${BEL}text${ESC}]8;;${BEL}`, 'text'],
    ['OSC 8 link ended by ST', `${ESC}]8;;https://ex.example/${ST}text${ESC}]8;;${ST}`, 'text'],
    ['window title', `${ESC}]0;build 42${BEL}done`, 'done'],
    ['cursor and erase', `50%${ESC}[2K${ESC}[1G100%`, '50%100%'],
    ['a stray ESC and BEL', `a${ESC}b${BEL}c`, 'abc'],
    ['no escapes', 'plain [brackets] ; m\n', 'plain [brackets] ; m\n'],
  ])('%s', (_name, input, expected) => {
    expect(withoutTerminalEscapes(input)).toBe(expected);
  });

  it('keeps exactly the text between any CSI and OSC sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(plain, fc.option(sequence, { nil: undefined }))), (parts) => {
        const printed = parts.map(([text, seq]) => text + (seq ?? '')).join('');
        const text = parts.map(([t]) => t).join('');
        expect(withoutTerminalEscapes(printed)).toBe(text);
      }),
    );
  });
});
