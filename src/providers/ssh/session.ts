import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BoundedOutput } from '../../core/bounded-output.ts';
import type { SshHost } from '../../core/inputs.ts';
import { LineStream } from '../../core/line-stream.ts';
import type { Redactor } from '../../core/redact.ts';
import { ExitMarkerFilter } from './exit-marker.ts';

/**
 * Remote commands through the system `ssh` client, as a user would run them:
 * the key lives in a 0600 file inside a private temp dir that `close()` removes,
 * host keys come only from the given known_hosts lines (no trust on first use
 * unless asked), and output arrives line by line as the remote prints it.
 */

export interface SshCredentials {
  /** Private key text; when absent, the runner's own ssh setup is used. */
  key?: string | undefined;
  /** known_hosts lines for every host. */
  knownHosts: string;
  /** Accept and remember unknown host keys (`StrictHostKeyChecking=accept-new`). */
  trustOnFirstUse?: boolean;
}

export interface RemoteRun {
  /** Exit code of the remote command; 255 when ssh itself failed. */
  code: number;
  /** stdout and stderr interleaved as produced (the remote shell joins them), for parsing. */
  output: string;
  /** The same output as it may be shown: redacted whole by the session's redactor, if it has one. */
  shown: string;
  /** What the ssh client itself printed on its stderr (why it could not connect or log in). */
  sshErrors?: string;
  timedOut: boolean;
}

export interface RunOptions {
  onLine?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to the remote command's stdin (e.g. a password for `--password-stdin`), never to argv. */
  input?: string;
  /**
   * A line `<exitMarker> <code>` the remote command prints when its shell
   * exits: the run ends `EXIT_MARKER_GRACE_MS` after it with that code even
   * when a process the shell left behind still holds the stream, and the
   * line is taken out of the output as it streams (`ExitMarkerFilter`), so
   * the output and its cap count only the command's own bytes.
   */
  exitMarker?: string;
  /**
   * ssh's stdin stays an open, silent pipe until the run ends, so the remote
   * command sees it close exactly when this ssh client is gone (killed at the
   * timeout, on abort, or with the whole step) and can end what it started.
   * Not with `input`.
   */
  holdStdin?: boolean;
}

/** How long the stream may stay open after the exit marker (as local checks' STREAM_GRACE_MS). */
export const EXIT_MARKER_GRACE_MS = 1000;

export class SshSession {
  private readonly dir: string;
  private readonly keyFile: string | undefined;
  private readonly knownHostsFile: string;
  private readonly strict: string;
  private readonly redactor: Redactor | undefined;

  private constructor(
    dir: string,
    keyFile: string | undefined,
    knownHostsFile: string,
    strict: string,
    redactor: Redactor | undefined,
  ) {
    this.dir = dir;
    this.keyFile = keyFile;
    this.knownHostsFile = knownHostsFile;
    this.strict = strict;
    this.redactor = redactor;
  }

  /** With a `redactor`, the lines handed to `onLine` and `RemoteRun.shown` are redacted as they stream. */
  static async open(
    credentials: SshCredentials,
    tempRoot: string,
    options: { redactor?: Redactor } = {},
  ): Promise<SshSession> {
    const dir = await mkdtemp(join(tempRoot, 'ops-ssh-'));
    let keyFile: string | undefined;
    if (credentials.key) {
      keyFile = join(dir, 'id');
      const text = credentials.key.endsWith('\n') ? credentials.key : `${credentials.key}\n`;
      await writeFile(keyFile, text, { mode: 0o600 });
    }
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, `${credentials.knownHosts.trim()}\n`, { mode: 0o600 });
    return new SshSession(
      dir,
      keyFile,
      knownHostsFile,
      credentials.trustOnFirstUse ? 'accept-new' : 'yes',
      options.redactor,
    );
  }

  /** The `ssh` arguments up to and including the destination. */
  args(host: SshHost): string[] {
    const args = [
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      `StrictHostKeyChecking=${this.strict}`,
      '-o',
      `UserKnownHostsFile=${this.knownHostsFile}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=15',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(host.port),
    ];
    if (this.keyFile) args.push('-o', 'IdentitiesOnly=yes', '-i', this.keyFile);
    args.push(host.user ? `${host.user}@${host.host}` : host.host);
    return args;
  }

  /** Runs one shell command on the host; stderr is folded into stdout there, so the order is the remote's. */
  run(host: SshHost, command: string, options: RunOptions = {}): Promise<RemoteRun> {
    const piped = options.input !== undefined || options.holdStdin === true;
    const child = spawn('ssh', [...this.args(host), `exec 2>&1; ${command}`], {
      stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    // A remote command that exits without reading its stdin must not crash us with EPIPE.
    child.stdin?.on('error', () => {});
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('close', () => child.stdin?.destroy());
    return collect(child, { redactor: this.redactor, ...options });
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** ssh's own messages kept for the error line: its last lines are its reason. */
const SSH_STDERR_BYTES = 16 * 1024;

/**
 * Reads a child's output until it exits, killing it at the timeout or on
 * abort. The output is kept up to `MAX_CAPTURE_BYTES` with a note of what was
 * cut (`BoundedOutput`); only the kept bytes become lines (for `onLine` and
 * `shown`, redacted across chunk boundaries when a redactor is given). The
 * child's own stderr (ssh's messages: the remote command's stderr is folded
 * into its stdout) is also kept apart, bounded, in `sshErrors`.
 */
export function collect(
  child: ReturnType<typeof spawn>,
  options: RunOptions & { redactor?: Redactor | undefined },
): Promise<RemoteRun> {
  return new Promise((resolve, reject) => {
    const output = new BoundedOutput();
    const sshErrors = new BoundedOutput(SSH_STDERR_BYTES);
    const shown: string[] = [];
    // One stream per pipe, so a character split across chunks of one pipe is decoded whole.
    const toLines = () =>
      new LineStream(
        (line) => {
          shown.push(line);
          options.onLine?.(line);
        },
        { redactor: options.redactor },
      );
    // Without a redactor or a listener, lines are only made if `shown` is read: a check's output is not held twice.
    const streaming = options.redactor !== undefined || options.onLine !== undefined;
    const stdoutLines = streaming ? toLines() : undefined;
    const stderrLines = streaming ? toLines() : undefined;
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const marker = options.exitMarker === undefined ? undefined : new ExitMarkerFilter(options.exitMarker);
    const fromStdout = (bytes: Buffer) => {
      if (bytes.length === 0) return;
      if (!output.full) stdoutLines?.write(bytes);
      output.add(bytes);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!marker) return fromStdout(chunk);
      const marked = marker.code !== undefined;
      fromStdout(marker.write(chunk));
      if (!marked && marker.code !== undefined)
        graceTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_MARKER_GRACE_MS);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!output.full) stderrLines?.write(chunk);
      output.add(chunk);
      sshErrors.add(chunk);
    });
    const kill = () => child.kill('SIGKILL');
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = marker?.code === undefined;
            kill();
          }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', kill);
      if (marker) fromStdout(marker.end());
      stdoutLines?.end();
      stderrLines?.end();
      const text = output.text();
      if (output.full && streaming) shown.push(text.slice(text.lastIndexOf('[output over')).trimEnd());
      resolve({
        code: marker?.code ?? code ?? 255,
        output: text,
        get shown() {
          return streaming ? shown.join('\n') : asLines(text);
        },
        sshErrors: sshErrors.text(),
        timedOut,
      });
    });
  });
}

/** Output as `LineStream` would have shown it: no `\r` before a newline, no final newline. */
function asLines(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/\r?\n$/, '');
}
