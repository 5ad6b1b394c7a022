/**
 * Lines written to stdout within one turn of the event loop leave in one write.
 * A fan-out at concurrency 256 finishes many targets per turn; one synchronous
 * pipe write per progress line was a tenth of its CPU time (bench/config-update.ts).
 * The stream is corked at the first line of a turn and uncorked by `setImmediate`,
 * right after the turn's I/O callbacks: lines still reach the runner as targets
 * finish (within a millisecond), in the order they were written, whichever code
 * wrote them.
 */
export class StdoutBatch {
  private readonly stream: NodeJS.WritableStream & { cork(): void; uncork(): void };
  private corked = false;

  constructor(stream: NodeJS.WritableStream & { cork(): void; uncork(): void } = process.stdout) {
    this.stream = stream;
  }

  /** Call before writing a line: holds this turn's lines until the turn is over. */
  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    setImmediate(() => this.flush());
  }

  /** Writes what is held now (at the end of a fan-out, before anything may exit). */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  }
}
