import { Redactor } from './redact.ts';

/**
 * Every secret input and every credential derived from one goes through here
 * before anything prints: the runner is told to mask it (`::add-mask::`), and
 * our own redactor removes it from what we write to files, summaries and errors,
 * which the runner's masking does not reach.
 */
export class Secrets {
  readonly redactor: Redactor;
  private readonly mask: (value: string) => void;

  constructor(mask: (value: string) => void, redactor = new Redactor()) {
    this.mask = mask;
    this.redactor = redactor;
  }

  add(value: string | undefined, kind = 'secret'): void {
    if (!value) return;
    for (const form of this.redactor.addLiteral(value, kind)) this.mask(form);
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }
}
