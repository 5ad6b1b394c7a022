import { exec } from '@actions/exec';
import { BoundedOutput } from '../core/bounded-output.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * How long the output pipes may stay open after the shell exited (or was
 * killed at the timeout): @actions/exec's `delay`. A process that escaped the
 * shell's group (`setsid daemon &`) may hold them for as long as it lives; a
 * check's output is whatever was written by then.
 */
export const STREAM_GRACE_MS = 1000;

/**
 * The shell @actions/exec starts. It becomes the leader of a process group of
 * its own through `setsid` where there is one (Linux; absent on macOS, where
 * only the shell itself can be killed), tells its pid on stderr, then folds
 * stderr into stdout so both arrive in the order the command wrote them. stdin
 * is /dev/null, so a command that reads it does not wait for the timeout
 * (@actions/exec's `input` would end the pipe, but a write to a shell that
 * already exited raises an EPIPE nobody can catch).
 * `$1` is the command; `$$` stays the same pid through both `exec`s.
 */
const LAUNCHER = 'command -v setsid >/dev/null 2>&1 && exec setsid sh -c "$1"; exec sh -c "$1"';
const PREAMBLE = 'echo $$ >&2; exec </dev/null 2>&1; ';

/**
 * A `run` check on the runner, through @actions/exec: `sh -c`, stdout and
 * stderr as one stream kept up to `MAX_CAPTURE_BYTES` (`BoundedOutput`),
 * decoded across chunks. @actions/exec resolves once the shell exited and its
 * pipes closed, or `STREAM_GRACE_MS` after the exit when a process it left
 * behind holds them. At the timeout or on `signal` the shell's process group
 * is killed; once the check is over, whatever the command left in the group
 * is killed too, so a background `sleep` does not outlive its check.
 *
 * A process that left the group keeps the pipe open in this process, and
 * Node waits for open pipes before it exits: evidence's entry point ends the
 * process when the run is done (src/evidence/main.ts).
 */
export async function runLocal(
  command: string,
  options: { timeoutMs: number; cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<RawOutcome> {
  const capture = new BoundedOutput();
  let control = '';
  let group: number | undefined;
  let killRequested = false;
  /** Kills the group; without one (no setsid), the shell alone while it runs. */
  const killGroup = (shellToo: boolean) => {
    if (group === undefined) return;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      if (shellToo)
        try {
          process.kill(group, 'SIGKILL');
        } catch {}
    }
  };
  const stop = () => {
    killRequested = true;
    killGroup(true);
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = () => stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await exec('sh', ['-c', LAUNCHER, 'ops-check', PREAMBLE + command], {
      cwd: options.cwd,
      env: definedOnly(options.env),
      // Nothing of the output is echoed: it is printed, redacted, with the evidence.
      silent: true,
      ignoreReturnCode: true,
      delay: STREAM_GRACE_MS,
      listeners: {
        stdout: (chunk) => capture.add(chunk),
        // stderr carries only the shell's pid, before `exec 2>&1`.
        stderr: (chunk) => {
          if (group !== undefined) return;
          control += chunk.toString('latin1');
          const line = /^(\d+)\n/.exec(control);
          if (!line) return;
          group = Number(line[1]);
          if (killRequested) killGroup(true);
        },
      },
    });
    return {
      output: capture.text(),
      exitCode: timedOut || code === null ? undefined : code,
      timedOut,
      error: timedOut || code !== null ? undefined : 'the shell was killed by a signal',
    };
  } catch (error) {
    return { output: capture.text(), timedOut, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // What the command left behind in its group goes with it (the shell has exited: its pid may be reused).
    killGroup(false);
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}
