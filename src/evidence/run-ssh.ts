import type { SshHost } from '../core/inputs.ts';
import type { SshSession } from '../providers/ssh/session.ts';
import type { RawOutcome } from './run-result.ts';

/**
 * A `run` check on `ssh-host` through the system ssh client. The remote shell
 * folds stderr into stdout, so the order is the host's; exit code 255 with no
 * output means ssh itself failed (refused, host key, auth), which we say.
 */
export async function runSsh(
  session: SshSession,
  host: SshHost,
  command: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RawOutcome> {
  try {
    const result = await session.run(host, command, { timeoutMs: options.timeoutMs, signal: options.signal });
    return {
      output: result.output,
      exitCode: result.timedOut ? undefined : result.code,
      timedOut: result.timedOut,
      error:
        result.code === 255 && !result.timedOut
          ? 'ssh exited with 255: the connection, host key or login failed (or the command exited 255)'
          : undefined,
    };
  } catch (error) {
    return { output: '', timedOut: false, error: `ssh could not start: ${(error as Error).message}` };
  }
}
