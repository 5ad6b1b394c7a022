import type { ChildProcess } from 'node:child_process';

/**
 * Stops a daemon the sandbox started: SIGTERM by PID, SIGKILL if it is still
 * running 3 s later; resolves once it has exited. `exited` is the exit promise
 * made at spawn, for a caller that must not miss an early exit event.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<unknown> = new Promise((resolve) => child.once('exit', resolve)),
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 3000);
  await exited;
  clearTimeout(timer);
}
