import { StringDecoder } from 'node:string_decoder';
import { type Redactor, StreamRedactor } from './redact.ts';

/**
 * A byte stream (a child's stdout, an HTTP body, a build log) turned into
 * lines. Chunks go through one streaming UTF-8 decoder, so a character split
 * across two chunks arrives whole; with a redactor, the text is redacted
 * across chunk boundaries (`StreamRedactor`: a secret, a private key block or
 * an Authorization header split between chunks or lines is still found)
 * before any line is handed on. Lines end at `\n`; a `\r` before it is
 * dropped. `end()` hands on the last line even without its newline.
 */
export class LineStream {
  private readonly decoder = new StringDecoder('utf8');
  private readonly redacting: StreamRedactor | undefined;
  private readonly onLine: (line: string) => void;
  private pending: string[] = [];

  constructor(onLine: (line: string) => void, options: { redactor?: Redactor | undefined } = {}) {
    this.onLine = onLine;
    this.redacting = options.redactor ? new StreamRedactor(options.redactor) : undefined;
  }

  /** Bytes, or text a decoder of the caller's already produced. */
  write(chunk: Uint8Array | string): void {
    const text =
      typeof chunk === 'string'
        ? chunk
        : this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.emit(this.redacting ? this.redacting.push(text) : text, false);
  }

  end(): void {
    const rest = this.decoder.end();
    this.emit(this.redacting ? this.redacting.push(rest) + this.redacting.end() : rest, true);
  }

  /** Scans only the new text, and joins a line's pieces once it ends: linear however long a line is. */
  private emit(text: string, final: boolean): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.pending.push(text.slice(start, nl));
      this.onLine(withoutCr(this.pending.join('')));
      this.pending = [];
      start = nl + 1;
    }
    if (start < text.length) this.pending.push(start === 0 ? text : text.slice(start));
    if (final && this.pending.length > 0) {
      this.onLine(withoutCr(this.pending.join('')));
      this.pending = [];
    }
  }
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
