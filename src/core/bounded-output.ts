import { StringDecoder } from 'node:string_decoder';

/**
 * Output beyond this is dropped at a line boundary, so one runaway command
 * cannot exhaust memory: the text kept is copied about three times on its way
 * to the evidence file (decoded, joined, redacted), and every check runs at
 * once. An evidence file shows `max-lines` of it anyway.
 */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/**
 * A command's output or an HTTP body, decoded as it arrives (a character split
 * across chunks arrives whole) and kept up to `maxBytes` (16 MiB by default);
 * later bytes are only counted. `text()` cuts at the last complete line, so no
 * partial secret is kept without its context, and ends with a note of how
 * much was cut. Memory stays near `maxBytes` whatever the source sends.
 */
export class BoundedOutput {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];
  private readonly maxBytes: number;
  private bytes = 0;
  private dropped = 0;
  private stopped = false;

  constructor(maxBytes = MAX_CAPTURE_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** True once `maxBytes` are kept: what comes next is only counted. */
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }

  add(chunk: Uint8Array): void {
    if (this.full) {
      this.dropped += chunk.byteLength;
      return;
    }
    this.parts.push(this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    this.bytes += chunk.byteLength;
  }

  /** The source was left unread once full (an HTTP body): the note says so instead of counting. */
  stop(): void {
    this.stopped = true;
  }

  /** Whether anything was left out: bytes past `maxBytes` (exactly `maxBytes` is all of it). */
  private get over(): boolean {
    return this.stopped || this.dropped > 0 || this.bytes > this.maxBytes;
  }

  text(): string {
    this.parts.push(this.decoder.end());
    const all = this.parts.join('');
    this.parts.length = 0;
    this.parts.push(all);
    if (!this.over) return all;
    const nl = all.lastIndexOf('\n');
    const tail = Buffer.byteLength(all.slice(nl + 1));
    const kept = all.slice(0, nl + 1);
    if (this.stopped)
      return `${kept}[output over ${this.maxBytes} bytes: the rest was not read (${tail} bytes of it were after the last complete line)]\n`;
    return `${kept}[output over ${this.maxBytes} bytes: the last ${this.dropped + tail} bytes were not kept]\n`;
  }
}
