import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExitMarkerFilter } from '../../src/providers/ssh/exit-marker.ts';

const MARKER = 'OPS-EVIDENCE-EXIT-0123456789abcdef0123456789abcdef';

/** Feeds `chunks` through a filter; returns what passed and the code it read. */
function through(chunks: string[]): { text: string; code: number | undefined } {
  const filter = new ExitMarkerFilter(MARKER);
  const parts = chunks.map((chunk) => filter.write(Buffer.from(chunk, 'latin1')));
  parts.push(filter.end());
  return { text: Buffer.concat(parts).toString('latin1'), code: filter.code };
}

/** `text` cut at the given offsets. */
function split(text: string, offsets: number[]): string[] {
  const at = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const to of at) {
    chunks.push(text.slice(from, to));
    from = to;
  }
  chunks.push(text.slice(from));
  return chunks;
}

describe('ExitMarkerFilter', () => {
  it.each([
    ['output then marker', ['hello\n', `${MARKER} 0\n`], 'hello\n', 0],
    ['output without a final newline', [`partial${MARKER} 3\n`], 'partial', 3],
    [
      'marker split inside the nonce',
      ['a\nOPS-EVIDENCE-EX', `IT-0123456789abcdef0123456789abcdef 12`, '7\n'],
      'a\n',
      127,
    ],
    ['a daemon writes after the marker', [`x\n${MARKER} 0\nlate\n`], 'x\nlate\n', 0],
    [
      'a marker-like line of the command (wrong nonce) passes',
      ['OPS-EVIDENCE-EXIT-0123 0\n'],
      'OPS-EVIDENCE-EXIT-0123 0\n',
      undefined,
    ],
    [
      'a cut-off marker (killed mid-write) is output',
      ['out\nOPS-EVIDENCE-EXIT-01'],
      'out\nOPS-EVIDENCE-EXIT-01',
      undefined,
    ],
    ['no marker (timed out)', ['still running\n'], 'still running\n', undefined],
  ])('%s', (_name, chunks, text, code) => {
    expect(through(chunks)).toEqual({ text, code });
  });

  it('passes a byte at once unless it may begin the marker', () => {
    const filter = new ExitMarkerFilter(MARKER);
    expect(filter.write(Buffer.from('waiting\n')).toString()).toBe('waiting\n');
    expect(filter.write(Buffer.from('OPS-')).toString()).toBe('');
    expect(filter.write(Buffer.from('x')).toString()).toBe('OPS-x');
  });

  it('whatever the command prints and however the stream is cut, the output is the command own bytes and the code is the shell one', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('O', 'P', 'S', '-', 'E', 'X', 'I', 'T', '0', '1', ' ', '\n', 'a', '\r'),
        }),
        fc.string({ unit: fc.constantFrom('z', '\n', 'OPS-', ' 0\n') }),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (before, after, code, offsets) => {
          const stream = `${before}${MARKER} ${code}\n${after}`;
          expect(through(split(stream, offsets))).toEqual({ text: before + after, code });
        },
      ),
    );
  });
});
