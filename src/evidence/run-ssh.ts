import { randomBytes } from 'node:crypto';
import type { SshHost } from '../core/inputs.ts';
import type { SshSession } from '../providers/ssh/session.ts';
import { sshFailure, unreachable } from '../providers/ssh/ssh-reason.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * A `run` check on `ssh-host` through the system ssh client. The remote shell
 * folds stderr into stdout, so the order is the host's. Exit code 255 with a
 * message from the ssh client itself means ssh failed (refused, host key,
 * login): the check is an `error` carrying ssh's own reason (redacted later,
 * like every note), said as what to check in `ssh-host` when the host could
 * not be reached. 255 without one is the command's own exit code.
 */
export async function runSsh(
  session: SshSession,
  host: SshHost,
  command: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RawOutcome> {
  try {
    const exitMarker = `OPS-EVIDENCE-EXIT-${randomBytes(16).toString('hex')}`;
    const result = await session.run(host, boundedCommand(command, exitMarker), {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      exitMarker,
      holdStdin: true,
    });
    const reason = sshFailure(result);
    return {
      output: result.output,
      exitCode: result.timedOut || reason ? undefined : result.code,
      timedOut: result.timedOut,
      error: reason
        ? (unreachable(reason, 'ssh-host') ?? `ssh could not run the check: ${reason}`)
        : undefined,
    };
  } catch (error) {
    return { output: '', timedOut: false, error: `ssh could not start: ${(error as Error).message}` };
  }
}

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Ends the check's process group `$1` (TERM, KILL 2 s later) once ssh's stdin,
 * which it reads, closes: the runner's ssh client is gone (killed at the
 * timeout, on cancel, or with the step). It ignores TERM from then on, so the
 * wrapper cannot stop it half way. Without `setsid`, `$1` is the shell alone.
 */
const WATCHER = [
  'cat >/dev/null',
  'trap "" TERM',
  'kill -TERM -"$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null',
  'sleep 2',
  'kill -KILL -"$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null',
].join('\n');

/**
 * The check's command as the host runs it: in the login shell (`$SHELL -c`,
 * as sshd would), stdin /dev/null, stderr folded into stdout, in a process
 * group of its own (`setsid`, util-linux or busybox; without it only the shell
 * can be ended). A watcher on the host holds ssh's stdin (`RunOptions.holdStdin`)
 * and kills the group when it closes, so a check cut at its timeout or by a
 * cancel does not keep running on the host, whether the runner's ssh client
 * was killed by us or by the runner. When the shell exits, what it left in its
 * group is ended (TERM, KILL 2 s later from a detached subshell that holds no
 * stream, as for local checks), and the wrapper prints
 * `<marker> <code>` (the marker holds a random per-run nonce) so the run ends
 * with the shell's own exit code even while a daemon that left the group
 * holds the stream (see `RunOptions.exitMarker`). `kill -TERM -<pgid>` is the
 * one form bash, dash and busybox ash all take.
 */
export function boundedCommand(command: string, marker: string): string {
  return [
    'exec 3<&0 </dev/null 2>&1',
    'if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi',
    `$s "\${SHELL:-/bin/sh}" -c ${quoted(command)} 3<&- & p=$!`,
    `$s sh -c ${quoted(WATCHER)} ops-check-watcher "$p" <&3 >/dev/null 2>&1 & w=$!`,
    'exec 3<&-',
    'wait "$p"; c=$?',
    '[ -n "$s" ] && kill -TERM -"$p" 2>/dev/null && (sleep 2; kill -KILL -"$p") </dev/null >/dev/null 2>&1 &',
    'kill -TERM -"$w" 2>/dev/null || kill -TERM "$w" 2>/dev/null',
    `printf '%s %s\\n' ${marker} "$c"`,
    'exit "$c"',
  ].join('\n');
}
