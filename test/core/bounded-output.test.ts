import { describe, expect, it } from 'vitest';
import { BoundedOutput } from '../../src/core/bounded-output.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function capture(maxBytes: number, ...chunks: string[]): string {
  const out = new BoundedOutput(maxBytes);
  for (const chunk of chunks) out.add(bytes(chunk));
  return out.text();
}

describe('BoundedOutput keeps up to its cap and says what it cut', () => {
  it.each([
    ['under the cap', 8, ['ab\n', 'cd'], 'ab\ncd'],
    // Exactly the cap is all of the output: nothing is cut and no note claims otherwise.
    ['exactly the cap, one line', 4, ['aaaa'], 'aaaa'],
    ['exactly the cap, in chunks', 6, ['ab\n', 'cd\n'], 'ab\ncd\n'],
    [
      'one byte over, cut at the last complete line',
      6,
      ['ab\n', 'cd\n', 'e'],
      'ab\ncd\n[output over 6 bytes: the last 1 bytes were not kept]\n',
    ],
    [
      'a chunk crossing the cap',
      4,
      ['ab\ncdef'],
      'ab\n[output over 4 bytes: the last 4 bytes were not kept]\n',
    ],
    [
      'one long line over the cap keeps nothing of it',
      4,
      ['aaaa', 'a'],
      '[output over 4 bytes: the last 5 bytes were not kept]\n',
    ],
  ])('%s', (_name, max, chunks, expected) => {
    expect(capture(max, ...chunks)).toBe(expected);
  });

  it('decodes a character split across chunks whole', () => {
    const out = new BoundedOutput(64);
    const euro = bytes('€');
    out.add(euro.subarray(0, 1));
    out.add(euro.subarray(1));
    expect(out.text()).toBe('€');
  });
});
