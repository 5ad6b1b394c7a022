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
  private pending = '';

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

  private emit(text: string, final: boolean): void {
    if (text !== '') this.pending += text;
    let start = 0;
    for (let nl = this.pending.indexOf('\n'); nl !== -1; nl = this.pending.indexOf('\n', start)) {
      this.onLine(withoutCr(this.pending.slice(start, nl)));
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    if (final && this.pending !== '') {
      this.onLine(withoutCr(this.pending));
      this.pending = '';
    }
  }
}

/**
 * A byte stream decoded as it arrives (a character split across chunks
 * arrives whole): `write` and `end` return the new text, `text` holds all.
 */
export class TextCollector {
  private readonly decoder = new StringDecoder('utf8');
  text = '';

  write(chunk: Uint8Array): string {
    const piece = this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.text += piece;
    return piece;
  }

  end(): string {
    const piece = this.decoder.end();
    this.text += piece;
    return piece;
  }
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
