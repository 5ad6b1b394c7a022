import { randomBytes } from 'node:crypto';
import type { SshHost } from '../core/inputs.ts';
import type { SshSession } from '../providers/ssh/session.ts';
import { sshFailure } from '../providers/ssh/ssh-reason.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * A `run` check on `ssh-host` through the system ssh client. The remote shell
 * folds stderr into stdout, so the order is the host's. Exit code 255 with a
 * message from the ssh client itself means ssh failed (refused, host key,
 * login): the check is an `error` carrying ssh's own reason (redacted later,
 * like every note). 255 without one is the command's own exit code.
 */
export async function runSsh(
  session: SshSession,
  host: SshHost,
  command: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RawOutcome> {
  try {
    const exitMarker = `OPS-EVIDENCE-EXIT-${randomBytes(16).toString('hex')}`;
    const result = await session.run(host, boundedCommand(command, options.timeoutMs, exitMarker), {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      exitMarker,
    });
    const reason = sshFailure(result);
    return {
      output: result.output,
      exitCode: result.timedOut || reason ? undefined : result.code,
      timedOut: result.timedOut,
      error: reason ? `ssh could not run the check: ${reason}` : undefined,
    };
  } catch (error) {
    return { output: '', timedOut: false, error: `ssh could not start: ${(error as Error).message}` };
  }
}

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The check's command as the host runs it: in the login shell (`$SHELL -c`),
 * in a process group of its own (`setsid`, util-linux; without it the command
 * runs as before), under a watchdog on the host that sends the group TERM at
 * the timeout and KILL 2 s later, so nothing of the check outlives it even
 * when the connection is gone. When the shell exits the wrapper prints
 * `<marker> <code>` (the marker holds a random per-run nonce), so the run ends
 * with the real exit code even while a daemon the check started holds the
 * stream (see `RunOptions.exitMarker`).
 */
export function boundedCommand(command: string, timeoutMs: number, marker: string): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const watchdog = `sleep ${seconds}; kill -TERM -- -"$1" 2>/dev/null; sleep 2; kill -KILL -- -"$1" 2>/dev/null`;
  return [
    'exec 2>&1 </dev/null',
    'if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi',
    `$s "\${SHELL:-/bin/sh}" -c ${quoted(command)} & p=$!`,
    `$s sh -c ${quoted(watchdog)} watchdog "$p" >/dev/null 2>&1 & w=$!`,
    'wait "$p"; c=$?',
    // What the shell left in its group goes with it, as for local checks.
    '[ -n "$s" ] && kill -TERM -- -"$p" 2>/dev/null',
    'kill -- -"$w" 2>/dev/null || kill "$w" 2>/dev/null',
    `printf '\n%s %s\n' ${marker} "$c"`,
    'exit "$c"',
  ].join('\n');
}
