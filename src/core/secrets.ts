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

/** Variable names that say their value is a secret. */
export const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|DSN/i;

/** Values too common to be secrets: masking them would shred every log line that mentions them. */
export function isTrivialValue(value: string): boolean {
  const v = value.trim();
  return v.length < 4 || /^(?:true|false|yes|no|on|off|null|none|undefined|\d{1,5})$/i.test(v);
}

/**
 * Whether a config value is masked: every value of a secret-named variable, and
 * any other value unless it is a plain word or number (`production`, `eu`, `3`).
 * Masking `production` would make the runner hide that word in every later line
 * of the job, including our own plan and progress.
 */
export function isSecretConfigValue(name: string, value: string): boolean {
  if (isTrivialValue(value)) return false;
  if (SECRET_NAME.test(name)) return true;
  return !/^[A-Za-z]+(?:[-_.][A-Za-z]+)*$/.test(value.trim()) && !/^\d+(?:\.\d+)?$/.test(value.trim());
}
