import { StepError } from '../../core/errors.ts';
import { msg } from '../../core/message.ts';
import { formatMs } from '../../core/summary.ts';
import * as cmd from './commands.ts';
import type { DeployHost } from './hosts.ts';
import { lastLines, type Remote } from './lock.ts';

export interface HealthWait {
  remote: Remote;
  host: DeployHost;
  /** Container name. */
  name: string;
  /** Run on the host until it exits 0; without it, a running container passes. */
  healthCmd: string | undefined;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal | undefined;
  line(text: string): void;
}

/**
 * Runs `health-cmd` on the host until it exits 0, or the container stops, or
 * `timeoutMs` passes; then shows the container's last log lines and throws a
 * `StepError('ssh.health')` naming the host and the last attempt's output.
 */
export async function waitHealthy(w: HealthWait): Promise<'passing' | 'skipped'> {
  const deadline = Date.now() + w.timeoutMs;
  let lastNote = '';
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    const result = await w.remote.run(w.host.login, cmd.healthAttempt(w.name, w.healthCmd), {
      timeoutMs: Math.max(1000, Math.min(left, 60_000)),
      ...(w.signal ? { signal: w.signal } : {}),
    });
    if (result.code === 0) {
      w.line(w.healthCmd ? `healthy after ${attempt} attempt(s)` : `${w.name} is running (no health-cmd)`);
      return w.healthCmd ? 'passing' : 'skipped';
    }
    const note = `exit ${result.timedOut ? 'timeout' : result.code}: ${lastLines(result.shown, 1)}`;
    if (note !== lastNote) {
      lastNote = note;
      w.line(`health attempt ${attempt}: ${note}`);
    }
    const gone = result.code === cmd.CONTAINER_GONE;
    if (gone || Date.now() + w.intervalMs > deadline) {
      await showLogs(w);
      throw new StepError(
        'ssh.health',
        msg`get a healthy ${w.name} on ${w.host.where}`,
        gone
          ? `${w.name} stopped: ${lastLines(result.shown, 1)}`
          : `${w.name} not healthy within ${formatMs(w.timeoutMs)} (${attempt} attempts; last ${note})`,
      );
    }
    await new Promise((r) => setTimeout(r, w.intervalMs));
  }
}

async function showLogs(w: HealthWait): Promise<void> {
  w.line(`last log lines of ${w.name}:`);
  await w.remote
    .run(w.host.login, cmd.tailLogs(w.name), { onLine: (l) => w.line(`  ${l}`), timeoutMs: 30_000 })
    .catch(() => undefined);
}
