import { spawn } from 'node:child_process';
import { BoundedOutput } from '../core/bounded-output.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * How long the output pipes may stay open after the shell exited (or was
 * killed at the timeout): a process that escaped the shell's group (`setsid
 * daemon &`) may hold them for as long as it lives. As @actions/exec's
 * `delay` option, but short, since a check's output is whatever was written by then.
 */
export const STREAM_GRACE_MS = 1000;

/**
 * A `run` check on the runner: `sh -c` with stderr folded into stdout inside
 * the shell, so both arrive in the order the command wrote them, kept up to
 * `MAX_CAPTURE_BYTES` (`BoundedOutput`). The shell leads its own process
 * group, killed when the shell exits and at the timeout: a `sleep` started by
 * the command dies with it instead of holding the pipe. A process that left
 * the group is not waited for beyond `STREAM_GRACE_MS`.
 *
 * Spawned directly rather than through @actions/exec: that runner gives no
 * handle on the process, so it can neither kill it at the timeout nor kill
 * its process group.
 */
export function runLocal(
  command: string,
  options: { timeoutMs: number; cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn('sh', ['-c', `exec 2>&1; ${command}`], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve({ output: '', timedOut: false, error: (error as Error).message });
      return;
    }
    const capture = new BoundedOutput();
    child.stdout?.on('data', (chunk: Buffer) => capture.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => capture.add(chunk));
    let timedOut = false;
    let spawnError: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    let done = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', onAbort);
      // An escaped process may still hold the pipes: stop reading them.
      child.stdout?.destroy();
      child.stderr?.destroy();
      const code = exit?.code ?? (exit?.signal ? 128 + signalNumber(exit.signal) : undefined);
      resolve({ output: capture.text(), exitCode: timedOut ? undefined : code, timedOut, error: spawnError });
    };
    const waitForPipes = () => {
      grace ??= setTimeout(finish, STREAM_GRACE_MS);
    };
    const onAbort = () => {
      killGroup();
      waitForPipes();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      onAbort();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      spawnError = error.message;
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A background child the command left behind would hold the pipe open: it goes with the shell.
      killGroup();
      waitForPipes();
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return numbers[signal] ?? 0;
}
