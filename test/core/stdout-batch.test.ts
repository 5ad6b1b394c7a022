import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdoutBatch } from '../../src/core/stdout-batch.ts';

/** A stream that records each write the way a pipe receives it: one entry per write or writev. */
function recorder() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      writes.push(String(chunk));
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)).join(''));
      done();
    },
  });
  return { stream, writes };
}
const turn = () => new Promise((r) => setImmediate(r));

describe('StdoutBatch', () => {
  it('writes the lines of one turn together, in order, at the end of the turn', async () => {
    const { stream, writes } = recorder();
    const batch = new StdoutBatch(stream);
    for (const line of ['a', 'b', 'c']) {
      batch.hold();
      stream.write(`${line}\n`);
    }
    stream.write('retry line\n'); // written by other code in the same turn: stays in order
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['a\nb\nc\nretry line\n']);
    batch.hold();
    stream.write('d\n');
    await turn();
    expect(writes).toEqual(['a\nb\nc\nretry line\n', 'd\n']);
  });

  it('flush writes what is held at once (the end of a fan-out)', () => {
    const { stream, writes } = recorder();
    const batch = new StdoutBatch(stream);
    batch.hold();
    stream.write('x\n');
    batch.flush();
    expect(writes).toEqual(['x\n']);
    batch.flush();
    expect(writes).toEqual(['x\n']);
  });
});
