import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from './errors.ts';
import { msg } from './message.ts';
import { Redactor } from './redact.ts';

/**
 * Typed readers over the raw input strings. Each action's `parseInputs` is a
 * pure function of `read`, so tests call it with a table and the bundle with
 * @actions/core's getInput. Values of secret inputs are never echoed.
 */

export type ReadInput = (name: string) => string;

export function fromRecord(values: Record<string, string>): ReadInput {
  return (name) => (values[name] ?? '').trim();
}

/** A bad value quoted in its error: credential shapes redacted first, then cut to 60 characters. */
function shown(value: string): string {
  const clean = new Redactor().redact(value);
  const short = clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
  return JSON.stringify(short);
}

/**
 * Reads a file an input names (`urls-file`): a path relative to the workspace, or absolute.
 * @throws OutsideWorkspaceError when the file, links followed, lies outside the workspace.
 * @throws NotUtf8Error when its bytes are not UTF-8.
 * @throws NotAListFileError for a directory, a FIFO or device, or a file over LIST_FILE_MAX_BYTES.
 */
export type ReadListFile = (path: string) => string;

/** A list file whose real path (links followed) is not inside the workspace. */
export class OutsideWorkspaceError extends Error {}

/**
 * A list file holds at most this: 10 000 URLs of 2 KB are 20 MB. Past it a file is
 * not a target list (a build artifact, a disk image) and reading it whole would
 * exhaust the runner's memory, or Node's longest string.
 */
export const LIST_FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A path that names no readable list: a directory, a FIFO (reading one waits for
 * a writer forever), a device, or a file over LIST_FILE_MAX_BYTES. `why` completes
 * "names <path>, which …".
 */
export class NotAListFileError extends Error {
  readonly why: string;
  constructor(why: string) {
    super(why);
    this.why = why;
  }
}

/** A list file with bytes that are not UTF-8 (a Latin-1 or UTF-16 export), first on `line` (1-based). */
export class NotUtf8Error extends Error {
  readonly line: number;
  constructor(line: number) {
    super(`not UTF-8 from line ${line}`);
    this.line = line;
  }
}

/**
 * The text of a list file's bytes. Decoding them leniently would turn a Latin-1 `é` into U+FFFD,
 * which a URL then sends as `%EF%BF%BD`: another path than the one written. Lines are counted
 * as `listEntries` counts them (LF, CRLF or a lone CR), on a Latin-1 reading that keeps every
 * byte in its place.
 * @throws NotUtf8Error naming the first line that is not UTF-8.
 */
export function utf8Text(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const lines = bytes.toString('latin1').split(/\r\n|\r|\n/);
  const bad = lines.findIndex((line) => !isUtf8(Buffer.from(line, 'latin1')));
  throw new NotUtf8Error(bad + 1);
}

/**
 * Files as the runner's workspace holds them: relative paths resolve against
 * GITHUB_WORKSPACE, and the real path (symlinks followed) must lie inside it,
 * so an input can never make the action read `/etc/passwd` or a runner secret.
 */
export function workspaceFiles(workspace: string | undefined): ReadListFile {
  return (path) => {
    const root = realpathSync(workspace ?? process.cwd());
    const target = resolve(root, path);
    let real: string;
    try {
      real = realpathSync(target);
    } catch (error) {
      // A missing file out there is refused as outside too, so that no answer tells what exists outside.
      if (!isInside(root, realpathSync(nearestExisting(target)))) throw new OutsideWorkspaceError(path);
      throw error;
    }
    if (!isInside(root, real)) throw new OutsideWorkspaceError(path);
    const stat = statSync(real);
    if (stat.isDirectory()) throw new NotAListFileError('is a directory');
    if (!stat.isFile()) throw new NotAListFileError('is not a regular file (a FIFO, a socket or a device)');
    if (stat.size > LIST_FILE_MAX_BYTES)
      throw new NotAListFileError(
        `is ${stat.size} bytes, more than a list file may hold (${LIST_FILE_MAX_BYTES})`,
      );
    return utf8Text(readFileSync(real));
  };
}

function isInside(root: string, real: string): boolean {
  const inside = relative(root, real);
  return !(inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside));
}

/** `path`, or the nearest of its parent folders that exists. */
function nearestExisting(path: string): string {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** One entry of a list file, with its 1-based line number for errors. */
export interface ListFileLine {
  line: number;
  value: string;
}

export class InputReader {
  private readonly read: ReadInput;
  private readonly readFile: ReadListFile;

  constructor(read: ReadInput, readFile: ReadListFile = workspaceFiles(undefined)) {
    this.read = read;
    this.readFile = readFile;
  }

  raw(name: string): string {
    return this.read(name);
  }

  optional(name: string): string | undefined {
    const value = this.read(name);
    return value === '' ? undefined : value;
  }

  required(name: string, why = 'is required'): string {
    const value = this.read(name);
    if (value === '') throw new InputError(name, why);
    return value;
  }

  /** A value from a fixed set; the error lists the set. */
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.read(name);
    if (value === '') {
      if (fallback !== undefined) return fallback;
      throw new InputError(name, msg`is required: one of ${allowed.join(', ')}`);
    }
    const match = allowed.find((a) => a === value.toLowerCase());
    if (!match) throw new InputError(name, msg`must be one of ${allowed.join(', ')}; got ${shown(value)}`);
    return match;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.read(name);
    if (value === '') return fallback;
    if (/^(true|yes|on)$/i.test(value)) return true;
    if (/^(false|no|off)$/i.test(value)) return false;
    throw new InputError(name, msg`must be true or false; got ${shown(value)}`);
  }

  integer(name: string, fallback: number, range: { min: number; max?: number }): number {
    const value = this.read(name);
    if (value === '') return fallback;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    const bounds = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
    if (!/^[+-]?\d+$/.test(value))
      throw new InputError(name, msg`must be a whole number ${bounds}; got ${shown(value)}`);
    const n = Number(value);
    if (n < range.min || n > max)
      throw new InputError(name, msg`must be a whole number ${bounds}; got ${shown(value)}`);
    return n;
  }

  /**
   * Seconds (fractions allowed), returned in milliseconds. Every duration is at
   * least `atLeast` seconds (1 by default): below a second a timer rounds to 0 ms
   * and every request or wait would fail before it starts.
   */
  seconds(name: string, fallbackSeconds: number, range: { atLeast?: number; max?: number } = {}): number {
    const value = this.read(name);
    if (value === '') return fallbackSeconds * 1000;
    const max = range.max ?? 86_400;
    const least = range.atLeast ?? 1;
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= least && n <= max)) {
      throw new InputError(
        name,
        msg`must be a number of seconds of at least ${least} and at most ${max}; got ${shown(value)}`,
      );
    }
    return Math.round(n * 1000);
  }

  url(name: string, options: { fallback?: string; required?: boolean } = {}): string | undefined {
    const value = this.read(name) || options.fallback || '';
    if (value === '') {
      if (options.required) throw new InputError(name, msg`is required: an http(s) URL`);
      return undefined;
    }
    return checkUrl(name, value);
  }

  /** The entries of a target list input (`urls`, `hosts`), by the rules of `listEntries`. */
  lines(name: string): string[] {
    return this.entries(name).map((e) => e.value);
  }

  /** As `lines`, with each entry's 1-based line number for errors. */
  entries(name: string): ListFileLine[] {
    return listEntries(this.read(name));
  }

  /**
   * The entries of the file input `name` names, one per line: blank lines,
   * `#` lines and ` # comments` after an entry are left out. Undefined when
   * the input is empty. An unreadable file is an InputError naming the input
   * and the path; `check` errors come back naming the file and the line.
   */
  fileLines<T>(
    name: string,
    check: (value: string) => T,
  ): { file: string; entries: (ListFileLine & { parsed: T })[] } | undefined {
    const file = this.read(name);
    if (file === '') return undefined;
    let text: string;
    try {
      text = this.readFile(file);
    } catch (error) {
      if (error instanceof OutsideWorkspaceError)
        throw new InputError(
          name,
          msg`names ${shown(file)}, which is outside the workspace (links followed); give a path inside GITHUB_WORKSPACE, the repository checkout`,
        );
      if (error instanceof NotAListFileError)
        throw new InputError(
          name,
          msg`names ${shown(file)}, which ${error.why}; give a file with one entry per line`,
        );
      if (error instanceof NotUtf8Error)
        throw new InputError(
          name,
          msg`${fileLine(file, error.line)}: holds bytes that are not UTF-8 text; save the file as UTF-8`,
        );
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new InputError(
        name,
        msg`names ${shown(file)}, which cannot be read (${code}); give a workspace path to a file with one entry per line`,
      );
    }
    const entries = listEntries(text).map(({ line, value }) => ({
      line,
      value,
      parsed: atLine(name, file, line, () => check(value)),
    }));
    return { file, entries };
  }

  /** Entries separated by commas or newlines. */
  list(name: string): string[] {
    return this.read(name)
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** `KEY=value` per line. Values may contain `=`; keys must look like env var names. */
  keyValues(name: string, options: { secretValues?: boolean } = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of splitLines(this.read(name))) {
      const eq = line.indexOf('=');
      const key = eq > 0 ? line.slice(0, eq).trim() : '';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        const what = options.secretValues ? 'a line' : shown(line);
        throw new InputError(name, msg`must hold one KEY=value per line; ${what} is not of that form`);
      }
      out[key] = line.slice(eq + 1);
    }
    return out;
  }

  /** `Name: value` per line, as HTTP headers. */
  headers(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of splitLines(this.read(name))) {
      const colon = line.indexOf(':');
      const key = colon > 0 ? line.slice(0, colon).trim() : '';
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
        throw new InputError(
          name,
          `must hold one 'Name: value' header per line; a line has no valid header name`,
        );
      }
      out[key] = line.slice(colon + 1).trim();
    }
    return out;
  }
}

/** Runs `check` on one line of a list file; its InputError comes back naming `file` and `line`. */
export function atLine<T>(name: string, file: string, line: number, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError(name, msg`${fileLine(file, line)}: ${error.problem}`);
    throw error;
  }
}

export function fileLine(file: string, line: number): string {
  return `${JSON.stringify(file)} line ${line}`;
}

/**
 * The URL as the endpoint's server receives it, for finding duplicates; the URL
 * sent is always the one given. RFC 3986 §6.2.2 normalisation on the WHATWG
 * parse: scheme and host lower-cased, the default port dropped, `.` segments
 * resolved, an empty path is `/`, a trailing dot of the host dropped (`h.example.`
 * is the DNS name `h.example`, as `sshHostKey` compares hosts); percent-escapes of unreserved characters
 * decoded (`%7E` is `~`) and the hex digits of the others upper-cased (`%2f` is
 * `%2F`, never `/`); the fragment dropped (clients never send it) and an empty
 * `?` too. Trailing slashes of the path are dropped as well: routers (Rails,
 * Express) answer `/update/` as `/update`. `value` must already have passed `checkUrl`.
 */
export function serverView(value: string): string {
  const url = new URL(value);
  const path = normalEscapes(url.pathname).replace(/\/+$/, '') || '/';
  const query = url.search === '' ? '' : normalEscapes(url.search);
  const host = url.hostname.replace(/\.$/, '') + (url.port === '' ? '' : `:${url.port}`);
  return `${url.protocol}//${host}${path}${query}`;
}

/** RFC 3986 §6.2.2.1-2: `%41` is `A`, `%7e` is `~`; `%2f` is `%2F` (a reserved character stays escaped). */
function normalEscapes(part: string): string {
  return part.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /^[A-Za-z0-9._~-]$/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * The entries of a target list, typed (`urls`, `hosts`) or from a file
 * (`urls-file`, `hosts-file`), with 1-based line numbers: lines end at LF,
 * CRLF or a lone CR (old Mac editors), a leading BOM is dropped, and so are
 * blank lines, `#` lines and a ` # comment` after an entry. A `#` with no
 * space before it stays: it is a URL's fragment.
 */
export function listEntries(text: string): ListFileLine[] {
  const entries: ListFileLine[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((raw, i) => {
      const value = raw.replace(/(^|\s)#.*$/, '').trim();
      if (value !== '') entries.push({ line: i + 1, value });
    });
  return entries;
}

export function splitLines(value: string): string[] {
  return value
    .split(/\r\n|\r|\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

/**
 * A space, control or invisible format character in an entry, named for its
 * error with its 1-based position: the URL parser would drop a tab or CR,
 * encode a space or a zero-width space (U+200B) and map a soft hyphen in a host
 * to nothing, so one line would silently name another path or host.
 */
export function blankInside(value: string): string | undefined {
  const at = value.search(/[\s\p{Cc}\p{Cf}]/u);
  if (at < 0) return undefined;
  const char = value[at];
  const what =
    char === ' '
      ? 'a space'
      : char === '\t'
        ? 'a tab'
        : char === '\r'
          ? 'a carriage return'
          : `the character U+${value.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${what} at character ${at + 1}`;
}

/**
 * The entry as an error may show it: only what starts like a URL, redacted and
 * cut short. Anything else (a line of the wrong file, a secret) is never quoted.
 */
function urlExcerpt(value: string): string {
  return /^https?:\/\//i.test(value)
    ? `; got ${shown(value)}`
    : '; the entry does not start with http:// or https://';
}

export function checkUrl(name: string, value: string): string {
  const blank = blankInside(value);
  if (blank) {
    throw new InputError(
      name,
      msg`must be one http(s) URL per line, without spaces or control characters; the entry has ${blank} (a comment after a URL starts with " #")${urlExcerpt(value)}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InputError(name, msg`must be an http(s) URL${urlExcerpt(value)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InputError(name, msg`must be an http(s) URL${urlExcerpt(value)}`);
  }
  if (parsed.username || parsed.password) {
    throw new InputError(name, msg`must not carry credentials in the URL; use the token inputs`);
  }
  // As given: the URL is sent exactly as the user wrote it (duplicates are found on `serverView`).
  return value;
}

/**
 * The host as sshd's machine is reached, for finding duplicates: an IP in its
 * canonical form (`[0:0::1]` is `::1`, WHATWG host parsing), names lower-cased
 * with a trailing dot dropped (DNS), and the port (22 when none was given).
 * The user is left out: `alice@web1` and `bob@web1` deploy to one machine.
 */
export function sshHostKey(login: SshHost): string {
  const bracketed = login.host.includes(':') ? `[${login.host}]` : login.host;
  const host = new URL(`http://${bracketed}`).hostname.replace(/\.$/, '');
  return `${host}:${login.port}`;
}

/** `[user@]host[:port]` as the ssh-based actions take it. */
export interface SshHost {
  user: string | undefined;
  host: string;
  port: number;
}

/**
 * `[user@]host[:port]`. A name is RFC 1123 labels: never empty (`web1..`, `.`) and never
 * starting with a dash, which ssh would read as an option (`-Jproxy.example` is a ProxyJump).
 */
const SSH_HOST =
  /^(?:([a-z_][a-z0-9_.-]*)@)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?)(?::(\d+))?$/;

export function parseSshHost(name: string, value: string): SshHost {
  const blank = blankInside(value);
  if (blank)
    throw new InputError(name, msg`must be [user@]host[:port], one per line; the entry has ${blank}`);
  // Quoted only when it has the characters of a host line: a line of another file is never shown.
  const got = /^[A-Za-z0-9_.@:[\]-]{1,100}$/.test(value) ? `; got ${shown(value)}` : '';
  const m = SSH_HOST.exec(value);
  if (!m)
    throw new InputError(
      name,
      msg`must be [user@]host[:port], the host a name of dot-separated labels (letters, digits, and dashes inside a label), an IPv4 address or a bracketed IPv6 one${got}`,
    );
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65_535) throw new InputError(name, msg`has a port outside 1-65535${got}`);
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port };
}
