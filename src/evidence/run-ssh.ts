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
    const result = await session.run(host, command, { timeoutMs: options.timeoutMs, signal: options.signal });
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
