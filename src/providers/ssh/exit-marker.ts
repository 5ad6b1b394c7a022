/**
 * Takes the line `<marker> <code>\n` a remote wrapper prints when the shell it
 * ran exits out of the byte stream, so what passes on is exactly what the
 * command wrote. The marker holds a random per-run nonce, so the command
 * cannot print it by chance or on purpose. The line may arrive split across
 * chunks: the last bytes that could start it are held back until the next
 * chunk or `end()`. Bytes after it (a daemon still writing) pass on as usual.
 */
export class ExitMarkerFilter {
  private readonly marker: Buffer;
  /** Longest possible marker line: marker, space, a code of up to 3 digits, newline. */
  private readonly longest: number;
  private held: Buffer = Buffer.alloc(0);
  /** The shell's exit code, once the marker line has passed. */
  code: number | undefined;

  constructor(marker: string) {
    this.marker = Buffer.from(`${marker} `, 'latin1');
    this.longest = this.marker.length + 4;
  }

  /** The bytes of `chunk` (with any held back before it) that are surely not the marker line. */
  write(chunk: Buffer): Buffer {
    if (this.code !== undefined) return chunk;
    const seen = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const at = seen.indexOf(this.marker);
    if (at >= 0) {
      const end = seen.indexOf(0x0a, at + this.marker.length);
      if (end < 0 && seen.length - at < this.longest) {
        this.held = Buffer.from(seen.subarray(at));
        return seen.subarray(0, at);
      }
      const digits = end < 0 ? '' : seen.subarray(at + this.marker.length, end).toString('latin1');
      if (/^\d{1,3}$/.test(digits)) {
        this.code = Number(digits);
        this.held = Buffer.alloc(0);
        return Buffer.concat([seen.subarray(0, at), seen.subarray(end + 1)]);
      }
    }
    const cut = seen.length - this.markerStartAtEnd(seen);
    this.held = Buffer.from(seen.subarray(cut));
    return seen.subarray(0, cut);
  }

  /** How many of the last bytes of `seen` are the first bytes of the marker (so may become it). */
  private markerStartAtEnd(seen: Buffer): number {
    for (let n = Math.min(seen.length, this.marker.length - 1); n > 0; n--)
      if (seen.subarray(seen.length - n).equals(this.marker.subarray(0, n))) return n;
    return 0;
  }

  /** Whatever was held back: the stream ended without (the rest of) a marker line. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }
}
