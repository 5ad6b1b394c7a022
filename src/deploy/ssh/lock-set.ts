import type { ActionContext } from '../../core/action.ts';
import { mapConcurrent } from '../../core/fanout.ts';
import { ComposedError, msg } from '../../core/message.ts';
import { formatMs } from '../../core/summary.ts';
import type { DeployHost } from './hosts.ts';
import { acquireLock, describeOwner, type HeldLock, type LockOwner, type Remote } from './lock.ts';
import { releaseLock } from './release.ts';

/** State name under which the main step records its locks for the post step. */
export const LOCKS_STATE = 'locks';

export interface LockSetOptions {
  service: string;
  /** The deploy id: the lock's token. */
  token: string;
  lockTimeoutMs: number;
  pollMs?: number | undefined;
  concurrency: number;
  signal?: AbortSignal | undefined;
  line(host: DeployHost, text: string): void;
}

/**
 * The deploy locks of one rollout, one per host. Each lock is recorded in the
 * step's state before it is taken, so the post step can release what a killed
 * run held; `releaseAll` runs on every path of the main step.
 */
export class LockSet {
  private readonly held: HeldLock[] = [];
  private readonly ctx: ActionContext;
  private readonly remote: Remote;
  private readonly options: LockSetOptions;

  constructor(ctx: ActionContext, remote: Remote, options: LockSetOptions) {
    this.ctx = ctx;
    this.remote = remote;
    this.options = options;
  }

  /** Takes the lock on one host, waiting up to `lockTimeoutMs` for another deploy's lock. */
  async take(host: DeployHost): Promise<void> {
    const { service, token } = this.options;
    const lock: HeldLock = { host: host.where, service, token, taken: false };
    // Recorded before the lock exists, so a run killed right after taking it is still cleaned up.
    this.held.push(lock);
    this.save();
    const result = await this.ctx.log.step('ssh.lock', { host: host.id }, async () => {
      const r = await acquireLock(this.remote, host.login, service, this.owner(), {
        timeoutMs: this.options.lockTimeoutMs,
        ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        onWait: (owner) =>
          this.options.line(host, `waiting for the ${service} deploy lock, held by ${describeOwner(owner)}`),
      });
      if (!r.acquired) {
        // Never ours: nothing for this run or its post step to release.
        this.held.splice(this.held.indexOf(lock), 1);
        this.save();
        throw new ComposedError(
          msg`the ${service} deploy lock is still held by ${describeOwner(r.owner)} after ${formatMs(r.waitedMs)} (lock-timeout); if that run is gone, release it with operation: release-lock (or remove ~/.ops-actions/locks/${service}.lock on the host)`,
        );
      }
      return r;
    });
    lock.taken = true;
    this.save();
    this.options.line(
      host,
      result.adopted
        ? `adopted the ${service} deploy lock that an earlier attempt of this run left (${describeOwner(result.adopted)})`
        : `took the ${service} deploy lock${result.waitedMs >= 1000 ? ` after waiting ${formatMs(result.waitedMs)}` : ''}`,
    );
  }

  /** Releases every lock still held; one that cannot be released stays recorded for the post step. */
  async releaseAll(): Promise<void> {
    await mapConcurrent(
      [...this.held],
      async (lock) => {
        const result = await this.ctx.log.step('ssh.unlock', { host: lock.host }, () =>
          releaseLock(this.ctx, this.remote, lock),
        );
        if (result !== 'failed') this.held.splice(this.held.indexOf(lock), 1);
      },
      { concurrency: this.options.concurrency },
    );
    this.save();
  }

  private owner(): LockOwner {
    const env = this.ctx.env;
    return {
      token: this.options.token,
      repository: env.GITHUB_REPOSITORY,
      run: env.GITHUB_RUN_ID,
      attempt: env.GITHUB_RUN_ATTEMPT,
      job: env.GITHUB_JOB,
      actor: env.GITHUB_ACTOR,
      time: new Date().toISOString(),
    };
  }

  private save(): void {
    this.ctx.saveState(LOCKS_STATE, JSON.stringify(this.held));
  }
}
