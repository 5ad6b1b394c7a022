import { Redactor } from './redact.ts';

/**
 * Every secret input and every credential derived from one goes through here
 * before anything prints: the runner is told to mask it (core.setSecret), and
 * our own redactor removes it from what we write to files, summaries and errors,
 * which the runner's masking does not reach.
 *
 * The runner masks any non-empty value and registers each of its lines and its
 * base64, JSON and URI encodings itself (actions/runner
 * src/Runner.Worker/Handlers/OutputManager.cs and HostContext's SecretMasker
 * value encoders), so each value is sent to it once, as is: an encoded fragment
 * sent as a mask of its own would hide ordinary text in every later line of the
 * job. The encoded forms stay with our own redactor (`encodedForms`).
 */
export class Secrets {
  readonly redactor: Redactor;
  private readonly mask: (value: string) => void;
  private readonly masked = new Set<string>();

  constructor(mask: (value: string) => void, redactor = new Redactor()) {
    this.mask = mask;
    this.redactor = redactor;
  }

  /**
   * A value the user named a secret (a secret input, a `redact` line, a
   * `redact.env` variable, a credential in a URL input): masked and redacted
   * whatever its length or look. Only the whole value goes to the runner;
   * its encodings (`encodedForms`) and `spellings` (texts that carry it in
   * another form, e.g. a URL password as typed, percent-encoded) go to our
   * own redactor only.
   */
  add(value: string | undefined, kind = 'secret', spellings: readonly string[] = []): void {
    if (!value) return;
    this.redactor.addLiteral(value, kind, spellings);
    if (this.masked.has(value)) return;
    this.masked.add(value);
    // The runner masks each line of a multi-line value on its own: those need no mask of their own.
    for (const line of value.split(/\r?\n/)) this.masked.add(line);
    this.mask(value);
  }

  /**
   * A value guessed to be secret from where it was found (a variable whose name
   * says so): added unless it is trivial (`isTrivialValue`), since masking
   * `true` or `3` would shred every later line of the job.
   */
  addGuessed(value: string | undefined, kind = 'secret'): void {
    if (value && !isTrivialValue(value)) this.add(value, kind);
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }
}

/** Variable names that say their value is a secret. */
export const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|DSN/i;

/**
 * Values too common to be secrets, even under a secret-looking name (`API_KEY=true`,
 * `MAX_KEYS=10`): masking them would shred every log line that mentions them. A
 * number of four digits or more under such a name may well be a PIN and is kept.
 */
export function isTrivialValue(value: string): boolean {
  const v = value.trim();
  return v.length < 4 || /^(?:true|false|yes|no|on|off|null|none|undefined)$/i.test(v);
}

/**
 * Plain values carry nothing secret: a word or a number (`production`, `eu`,
 * `3`, `1.5`), a host name (`tati.shibari.photo`), or an http(s) URL without
 * userinfo and without a secret query parameter (`https://tati.shibari.photo/a`).
 */
export function isPlainValue(value: string): boolean {
  const v = value.trim();
  if (/^[A-Za-z]+(?:[-_.][A-Za-z]+)*$/.test(v) || /^\d+(?:\.\d+)?$/.test(v)) return true;
  if (
    /^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(
      v,
    )
  )
    return true;
  if (!/^https?:\/\/[^\s]+$/i.test(v)) return false;
  try {
    const url = new URL(v);
    return url.username === '' && url.password === '' && urlSecrets(v).length === 0;
  } catch {
    return false;
  }
}

/**
 * Whether a config value found on an app is guessed to be a secret: a
 * non-trivial value of a secret-named variable, and any other value unless it
 * is trivial or plain (`isPlainValue`). Masking `production` or an asset host
 * would make the runner hide that word in every later line of the job,
 * outputs of ours included.
 */
export function isSecretConfigValue(name: string, value: string): boolean {
  if (isTrivialValue(value)) return false;
  return SECRET_NAME.test(name) || !isPlainValue(value);
}

/**
 * Whether a config value the user gave (a `config` override line) is a secret:
 * under a secret-named key the user named it one, so any value but a yes/no
 * word counts, whatever its length (`DB_PASSWORD=54321`); under any other key
 * it is guessed as for values found on an app (`isSecretConfigValue`).
 */
export function isSecretOverride(name: string, value: string): boolean {
  const v = value.trim();
  if (SECRET_NAME.test(name)) return v !== '' && !/^(?:true|false|yes|no|on|off|null|none)$/i.test(v);
  return isSecretConfigValue(name, value);
}

/** Query parameters whose value is a credential: presigned-URL signatures and tokens. */
const SECRET_PARAM =
  /^(?:x-amz-signature|x-amz-security-token|x-goog-signature|signature|sig|token|access_token|refresh_token|id_token|api[_-]?key|apikey|client_secret|secret|password|passwd)$/i;

/**
 * A secret value and the other spellings it travels in. The value goes to
 * `::add-mask::`; the spellings only to our own redactor (`Secrets.add`).
 */
export interface SecretValue {
  value: string;
  spellings?: string[];
}

/**
 * The credentials a URL carries, decoded: its userinfo password (spelled too
 * as typed, and as `user:password` in base64, as Basic auth sends it; a
 * username alone when there is no password), and the values of secret query
 * parameters (`SECRET_PARAM`, spelled too as typed). Empty for a URL that does
 * not parse.
 */
export function urlSecrets(value: string): SecretValue[] {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return [];
  }
  const out: SecretValue[] = [];
  const others = (decoded: string, typed: string[]) => typed.filter((t) => t !== decoded);
  if (url.password) {
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    out.push({
      value: password,
      spellings: [...others(password, [url.password]), Buffer.from(`${user}:${password}`).toString('base64')],
    });
  } else if (url.username) {
    const user = safeDecode(url.username);
    out.push({ value: user, spellings: others(user, [url.username]) });
  }
  for (const pair of url.search.slice(1).split('&')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = safeDecode(pair.slice(0, at).replace(/\+/g, ' '));
    const typed = pair.slice(at + 1);
    const decoded = safeDecode(typed.replace(/\+/g, ' '));
    if (decoded && SECRET_PARAM.test(name)) out.push({ value: decoded, spellings: others(decoded, [typed]) });
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
