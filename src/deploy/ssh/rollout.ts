import type { ActionContext } from '../../core/action.ts';
import { StepError } from '../../core/errors.ts';
import { mapConcurrent } from '../../core/fanout.ts';
import { abortableSleep } from '../../core/http.ts';
import { ComposedError, composedOf, joinMessages, type Line, msg, own } from '../../core/message.ts';
import { Progress } from '../../core/progress.ts';
import { formatMs } from '../../core/summary.ts';
import { parseImageReference } from '../../providers/registry/reference.ts';
import type { SshDeploySettings } from '../inputs.ts';
import { credentialsFor, type RegistryCredentialSources, registrySources } from '../registry-credentials.ts';
import type { DeployRequest, TargetOutcome, UnitResult } from '../target.ts';
import * as cmd from './commands.ts';
import { listOn } from './containers.ts';
import { waitHealthy } from './health.ts';
import type { DeployHost } from './hosts.ts';
import { lastLines, type Remote } from './lock.ts';
import { LockSet } from './lock-set.ts';
import { describeHostPlan, type HostPlan, planHost, planPrune } from './plan.ts';
import { proxiedRunArgs, type Reach, reachOf } from './publish.ts';

export interface SshTargetOptions {
  /** Between lock attempts while another deploy holds it. */
  lockPollMs?: number;
  /** Between health-cmd attempts. */
  healthIntervalMs?: number;
  /** Hosts deployed at once after the first. */
  concurrency?: number;
}

interface HostState {
  host: DeployHost;
  batch: number;
  plan?: HostPlan;
  /** What this run did on the host, so a restore undoes exactly that. */
  created: boolean;
  started: boolean;
  stopped: string[];
  /** Proxy: the target's own host port, once known. */
  port?: number;
  /** Proxy: the upstream now points at the target. */
  switched?: boolean;
  unit: UnitResult;
}

/**
 * One deploy or rollback of a service across its hosts; see createSshTarget for the order of events.
 */
/** What each remote command of a rollout does, as its error says it ("Could not pull the image on …"). */
const DOING = {
  pull: 'pull the image',
  create: 'create the new container',
  stop: 'stop the old container',
  start: 'start the new container',
  port: 'pick a free host port',
  switch: 'switch the nginx upstream',
  restore: 'put the previous container back',
  prune: 'remove old containers and unused images',
} as const;

export class Rollout {
  private readonly t0 = performance.now();
  private readonly locks: LockSet;
  private readonly progress: Progress;
  private readonly planLines: Line[] = [];
  private readonly registry: RegistryCredentialSources;

  private readonly settings: SshDeploySettings;
  private readonly ctx: ActionContext;
  private readonly remote: Remote;
  private readonly hosts: DeployHost[];
  private readonly request: DeployRequest;
  private readonly options: SshTargetOptions;

  constructor(
    settings: SshDeploySettings,
    ctx: ActionContext,
    remote: Remote,
    hosts: DeployHost[],
    request: DeployRequest,
    options: SshTargetOptions,
  ) {
    this.settings = settings;
    this.ctx = ctx;
    this.remote = remote;
    this.hosts = hosts;
    this.request = request;
    this.options = options;
    this.progress = new Progress(hosts.length, request.log);
    this.locks = new LockSet(ctx, remote, {
      service: settings.service,
      token: request.deployId,
      lockTimeoutMs: settings.lockTimeoutMs,
      pollMs: options.lockPollMs,
      concurrency: this.concurrency(),
      signal: request.signal,
      line: (host, text) => this.line(host, text),
    });
    this.registry = registrySources(ctx.inputs, ctx.env);
  }

  /** The `docker login` for the registry `image` lives in, with the credentials that registry may get. */
  private loginFor(image: string): { login: cmd.RegistryLogin; password: string } | undefined {
    const registry = parseImageReference(image)?.registry;
    const chosen = registry ? credentialsFor(registry, this.registry) : undefined;
    if (!chosen) return undefined;
    return {
      login: {
        username: chosen.credentials.username,
        server: registry === 'docker.io' ? undefined : registry,
      },
      password: chosen.credentials.password,
    };
  }

  private now(): number {
    return Math.round(performance.now() - this.t0);
  }

  private line(host: DeployHost, text: string): void {
    this.request.log(msg`[${host.id}] ${text}`);
  }

  async run(): Promise<TargetOutcome> {
    const states = this.hosts.map(
      (host, i): HostState => ({
        host,
        batch: i === 0 ? 1 : 2,
        created: false,
        started: false,
        stopped: [],
        unit: {
          id: host.id,
          where: host.where,
          outcome: 'skipped',
          batch: i === 0 ? 1 : 2,
          startedMs: 0,
          endedMs: 0,
        },
      }),
    );
    if (this.request.dryRun) return this.dryRun(states);
    try {
      const locked = await this.lockAll(states);
      if (locked) return locked;
      const observed = await this.observeAll(states);
      if (observed) return observed;
      return await this.rollOut(states);
    } finally {
      await this.locks.releaseAll();
    }
  }

  private async dryRun(states: HostState[]): Promise<TargetOutcome> {
    await mapConcurrent(
      states,
      async (s) => {
        s.unit.startedMs = this.now();
        try {
          const containers = await listOn(this.remote, s.host, this.settings.service);
          s.plan = this.planFor(containers);
          const after = s.plan.reuse ? containers : [this.placeholder(s.plan.target), ...containers];
          const prune = planPrune(after, s.plan.target, this.settings.keep);
          this.planLines.push(...describeHostPlan(s.host.where, s.plan, prune));
          s.unit.outcome = 'planned';
          if (s.plan.previousImage) s.unit.previousImage = s.plan.previousImage;
          if (this.request.image) s.unit.newImage = this.request.image;
        } catch (error) {
          s.unit.outcome = 'failed';
          s.unit.error = composedOf(error);
          this.planLines.push(msg`${s.host.where}: cannot plan: ${error}`);
        }
        s.unit.endedMs = this.now();
        this.progressDone(s);
      },
      { concurrency: this.concurrency() },
    );
    const failed = states.filter((s) => s.unit.outcome === 'failed');
    return this.outcome(
      states,
      failed.length > 0 ? 'failed' : 'success',
      joinMessages(
        failed.flatMap((s) => s.unit.error ?? []),
        '; ',
      ),
    );
  }

  private placeholder(name: string): cmd.Container {
    return { id: '', name, deployTag: '', image: '', state: 'created', createdAt: '9999' };
  }

  private planFor(containers: cmd.Container[]): HostPlan {
    const reach = this.settings.proxy === 'nginx' ? this.reach() : undefined;
    return planHost(
      {
        service: this.settings.service,
        deployTag: this.request.deployTag,
        image: this.request.image,
        healthCmd: this.settings.healthCmd,
        proxy:
          this.settings.proxy === 'nginx'
            ? {
                healthPath: this.settings.healthPath,
                drainMs: this.settings.drainTimeoutMs,
                publish: reach?.kind === 'publish' ? reach.containerPort : undefined,
              }
            : undefined,
      },
      containers,
    );
  }

  /** How nginx reaches this service's containers; `run-args` was checked at input time. */
  private reach(): Reach {
    const reach = reachOf(this.settings.runArgs);
    if ('error' in reach) throw new ComposedError(msg`run-args ${reach.error}`);
    return reach;
  }

  private concurrency(): number {
    return this.options.concurrency ?? 10;
  }

  // ---- locks ---------------------------------------------------------------

  /** One host at a time, in a fixed order; returns a failed outcome when a lock cannot be had. */
  private async lockAll(states: HostState[]): Promise<TargetOutcome | undefined> {
    const ordered = [...states].sort((a, b) => (a.host.where < b.host.where ? -1 : 1));
    for (const s of ordered) {
      try {
        await this.locks.take(s.host);
      } catch (error) {
        s.unit.outcome = 'failed';
        s.unit.error = new StepError(
          'ssh.lock',
          msg`take the deploy lock on ${s.host.where}`,
          error,
        ).composed;
        s.unit.startedMs = s.unit.endedMs = this.now();
        this.progressDone(s);
        return this.outcome(states, 'failed', s.unit.error);
      }
    }
    return undefined;
  }

  // ---- observe and roll out ----------------------------------------------

  private async observeAll(states: HostState[]): Promise<TargetOutcome | undefined> {
    await mapConcurrent(
      states,
      async (s) => {
        try {
          const containers = await this.ctx.log.step('ssh.observe', { host: s.host.id }, () =>
            listOn(this.remote, s.host, this.settings.service),
          );
          s.plan = this.planFor(containers);
          this.planLines.push(...describeHostPlan(s.host.where, s.plan, []));
        } catch (error) {
          s.unit.outcome = 'failed';
          s.unit.error = new StepError(
            'ssh.observe',
            msg`list the containers of ${this.settings.service} on ${s.host.where}`,
            error,
          ).composed;
        }
      },
      { concurrency: this.concurrency() },
    );
    const failed = states.filter((s) => s.unit.outcome === 'failed');
    if (failed.length === 0) return undefined;
    for (const s of failed) this.progressDone(s);
    return this.outcome(
      states,
      'failed',
      joinMessages(
        failed.flatMap((s) => s.unit.error ?? []),
        '; ',
      ),
    );
  }

  private async rollOut(states: HostState[]): Promise<TargetOutcome> {
    const batches = [states.filter((s) => s.batch === 1), states.filter((s) => s.batch === 2)];
    let failure: Line | undefined;
    for (const batch of batches) {
      if (batch.length === 0) continue;
      await mapConcurrent(batch, (s) => this.deployHost(s), {
        concurrency: this.concurrency(),
        ...(this.request.signal ? { signal: this.request.signal } : {}),
      }).catch((error: unknown) => {
        failure ??= composedOf(error);
      });
      const failed = batch.filter((s) => s.unit.outcome === 'failed');
      if (failed.length > 0) {
        failure = joinMessages(
          failed.flatMap((s) => s.unit.error ?? []),
          '; ',
        );
        break;
      }
      if (failure) break;
    }
    if (!failure) {
      await this.pruneAll(states);
      return this.outcome(states, 'success');
    }
    for (const s of states) {
      if (s.unit.outcome === 'skipped') this.progressDone(s);
    }
    if (!this.request.autoRollback) return this.outcome(states, 'failed', failure);
    const changed = states.filter((s) => s.created || s.started || s.stopped.length > 0);
    let restored = true;
    await mapConcurrent(
      changed,
      async (s) => {
        try {
          await this.ctx.log.step('ssh.restore', { host: s.host.id }, () => this.restore(s));
          s.unit.outcome = 'rolled-back';
          if (s.plan?.previousImage) s.unit.newImage = s.plan.previousImage;
          this.line(
            s.host,
            `rolled back: ${s.plan?.previous.map((c) => c.name).join(', ') || 'nothing ran before'}`,
          );
        } catch (error) {
          restored = false;
          s.unit.outcome = 'failed';
          const restoring = new StepError(
            'ssh.restore',
            msg`${own(DOING.restore)} on ${s.host.where}`,
            error,
          );
          s.unit.error = s.unit.error ? msg`${s.unit.error}; ${restoring}` : restoring.composed;
        }
      },
      { concurrency: this.concurrency() },
    );
    const restoredAnything = changed.some((s) => (s.plan?.previous.length ?? 0) > 0);
    return this.outcome(states, restored && restoredAnything ? 'rolled-back' : 'failed', failure);
  }

  private async deployHost(s: HostState): Promise<void> {
    const plan = s.plan!;
    s.unit.startedMs = this.now();
    if (plan.previousImage) s.unit.previousImage = plan.previousImage;
    s.unit.newImage = this.request.image ?? plan.previous[0]?.image;
    try {
      if (plan.unchanged) {
        s.unit.outcome = 'unchanged';
        this.line(s.host, `${plan.target} already runs this version`);
      } else {
        for (const step of plan.steps) {
          if (step.kind === 'start' && step.name === plan.target && plan.reuse) {
            s.port = plan.steps.find((st) => st.kind === 'switch')?.port;
          }
          if (step.kind === 'health') {
            const health = await this.ctx.log.step(
              'ssh.health',
              { host: s.host.id, container: step.name },
              () =>
                waitHealthy({
                  remote: this.remote,
                  host: s.host,
                  name: step.name,
                  healthCmd:
                    this.settings.proxy === 'nginx'
                      ? cmd.proxiedHealth(s.port!, step.cmd, step.path) || undefined
                      : step.cmd,
                  timeoutMs: this.request.healthTimeoutMs,
                  intervalMs: this.options.healthIntervalMs ?? 2000,
                  signal: this.request.signal,
                  line: (text) => this.line(s.host, text),
                }).catch((error: unknown) => {
                  s.unit.health = 'failing';
                  throw error;
                }),
            );
            s.unit.health = health;
            continue;
          }
          await this.ctx.log.step(
            `ssh.${step.kind}`,
            { host: s.host.id, container: plan.target },
            async () => {
              if (step.kind === 'pull') {
                const login = this.loginFor(step.image);
                await this.exec(s, 'pull', cmd.pull(step.image, login?.login), 30 * 60_000, login?.password);
              }
              if (step.kind === 'create') {
                await this.exec(
                  s,
                  'create',
                  cmd.create({
                    name: step.name,
                    image: step.image,
                    service: this.settings.service,
                    deployTag: this.request.deployTag,
                    deployId: this.request.deployId,
                    runArgs:
                      s.port === undefined
                        ? this.settings.runArgs
                        : proxiedRunArgs(this.settings.runArgs, this.reach(), s.port),
                    port: s.port,
                  }),
                );
                s.created = true;
              }
              if (step.kind === 'stop') {
                s.stopped.push(step.name);
                await this.exec(s, 'stop', cmd.stop(step.name), 5 * 60_000);
              }
              if (step.kind === 'start') {
                s.started = true;
                await this.exec(s, 'start', cmd.start(step.name));
              }
              if (step.kind === 'port') {
                const port = cmd.parsePort(await this.exec(s, 'port', cmd.pickPort()));
                if (port === undefined) throw new Error('the port picker printed no port');
                s.port = port;
              }
              if (step.kind === 'switch') {
                const port = step.port ?? s.port!;
                const t = performance.now();
                await this.exec(s, 'switch', cmd.switchUpstream(this.settings.service, port)).catch(
                  (error: unknown) => {
                    // Cut by a cancellation, the remote script may still have reloaded nginx:
                    // the restore points the upstream back in case it did.
                    if (this.request.signal?.aborted) s.switched = true;
                    throw error;
                  },
                );
                s.switched = true;
                this.line(s.host, `upstream switched to ${step.name} in ${formatMs(performance.now() - t)}`);
              }
              if (step.kind === 'drain') {
                this.line(s.host, `draining the old container for ${formatMs(step.ms)}`);
                // A cancellation cuts the drain: the restore then points the upstream back.
                await abortableSleep(step.ms, this.request.signal);
              }
            },
          );
        }
        s.unit.outcome = 'updated';
      }
    } catch (error) {
      s.unit.outcome = 'failed';
      s.unit.error =
        error instanceof StepError
          ? error.composed
          : new StepError('ssh.deploy', msg`deploy to ${s.host.where}`, error).composed;
      if (s.unit.health === undefined && plan.steps.some((st) => st.kind === 'health') && s.started) {
        s.unit.health = 'failing';
      }
    }
    s.unit.endedMs = this.now();
    this.progressDone(s);
  }

  /** Runs one remote command, its output streamed line by line; a non-zero exit names the step and host. */
  private async exec(
    s: HostState,
    step: keyof typeof DOING,
    command: string,
    timeoutMs = 120_000,
    input?: string,
    signal = this.request.signal,
  ): Promise<string> {
    const result = await this.remote.run(s.host.login, command, {
      onLine: (line) => this.line(s.host, line),
      timeoutMs,
      ...(signal ? { signal } : {}),
      ...(input !== undefined ? { input } : {}),
    });
    if (result.code !== 0 || result.timedOut) {
      const why = result.timedOut ? `timed out after ${formatMs(timeoutMs)}` : `exit ${result.code}`;
      throw new StepError(
        `ssh.${step}`,
        msg`${own(DOING[step])} on ${s.host.where}`,
        new ComposedError(msg`${own(why)}: ${lastLines(result.shown)}`),
      );
    }
    return result.output;
  }

  /** Undoes exactly what this run did on the host: the new container goes, the previous one comes back. */
  private async restore(s: HostState): Promise<void> {
    const plan = s.plan!;
    // After a cancellation the runner's grace is short: a container this run created is removed at
    // once instead of stopped gracefully first, and every command runs under the clean-up budget.
    const cancelled = this.request.signal?.aborted === true;
    const signal = cancelled ? this.request.cleanupSignal : this.request.signal;
    const back = plan.previous[0]?.port;
    if (s.switched && back !== undefined) {
      for (const name of s.stopped)
        await this.exec(s, 'restore', cmd.start(name), undefined, undefined, signal);
      s.stopped = [];
      await this.exec(
        s,
        'restore',
        cmd.switchUpstream(this.settings.service, back),
        undefined,
        undefined,
        signal,
      );
    }
    if (s.started && !(cancelled && s.created))
      await this.exec(s, 'restore', cmd.stop(plan.target), 5 * 60_000, undefined, signal);
    if (s.created) await this.exec(s, 'restore', cmd.remove(plan.target), undefined, undefined, signal);
    for (const name of s.stopped)
      await this.exec(s, 'restore', cmd.start(name), undefined, undefined, signal);
  }

  private async pruneAll(states: HostState[]): Promise<void> {
    await mapConcurrent(
      states.filter((s) => s.plan),
      async (s) => {
        try {
          await this.ctx.log.step('ssh.prune', { host: s.host.id }, async () => {
            const containers = await listOn(this.remote, s.host, this.settings.service);
            const prune = planPrune(containers, s.plan!.target, this.settings.keep);
            for (const c of prune) {
              await this.exec(s, 'prune', `${cmd.remove(c.name)} >/dev/null`);
              await this.exec(s, 'prune', cmd.removeImageIfUnused(c.image));
              this.line(s.host, `removed ${c.name} (keep ${this.settings.keep})`);
            }
          });
        } catch (error) {
          this.ctx.warning(msg`Pruning old ${this.settings.service} containers on ${s.host.where}: ${error}`);
        }
      },
      { concurrency: this.concurrency() },
    );
  }

  // ---- report -------------------------------------------------------------

  private progressDone(s: HostState): void {
    this.progress.done({
      id: s.host.id,
      where: s.host.where,
      outcome: s.unit.outcome,
      ms: Math.max(0, s.unit.endedMs - s.unit.startedMs),
      ...(s.unit.error
        ? { note: String(s.unit.error) }
        : s.unit.health
          ? { note: `health ${s.unit.health}` }
          : {}),
    });
  }

  private outcome(states: HostState[], status: TargetOutcome['status'], error?: Line): TargetOutcome {
    const units = states.map((s) => s.unit);
    const previousImage = units.find((u) => u.previousImage)?.previousImage;
    // Cancelled: a host counts as changed once this run created, started, stopped or switched
    // anything there, whether or not its unit finished.
    const cancelled =
      this.request.signal?.aborted && !this.request.dryRun
        ? {
            changed: states.filter((s) => s.created || s.started || s.stopped.length > 0 || s.switched)
              .length,
            restored: units.filter((u) => u.outcome === 'rolled-back').length,
          }
        : undefined;
    return {
      status,
      units,
      plan: this.planLines,
      ...(previousImage ? { previousImage } : {}),
      ...(status !== 'success' && error && String(error) ? { error } : {}),
      ...(cancelled ? { cancelled } : {}),
    };
  }
}
