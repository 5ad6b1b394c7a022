import { ComposedError, type Message, msg, own } from '../../core/message.ts';
import { type Container, containerName, upstreamFile, upstreamName } from './commands.ts';

/**
 * What one host needs, from what it runs now: pure, so dry-run is "observe,
 * plan, describe, stop" and tests compare plans as data.
 *
 * Order on the host: pull and create the new container first (nothing running
 * is touched yet, and a bad image or bad `run-args` fail here), then stop the
 * previous container and start the new one. Stopping first keeps the two from
 * fighting over the same ports (`-p 3000:3000`, or `--network host`); the gap
 * is a `docker stop` plus a `docker start`. A rollback to a version whose
 * container is still kept starts that container: no pull, no create.
 *
 * With `proxy: nginx` nothing running is stopped first: the new (or kept)
 * container starts beside the old one on a host port of its own, must pass
 * its health check on that port, and only then the service's nginx upstream
 * is switched to it; the old container stops after the drain period. Any
 * failure before the switch leaves traffic where it was.
 */

export type HostStep =
  | { kind: 'pull'; image: string }
  | { kind: 'create'; name: string; image: string }
  | { kind: 'stop'; name: string }
  | { kind: 'start'; name: string }
  | { kind: 'health'; name: string; cmd: string | undefined; path?: string | undefined }
  /**
   * Proxy: choose a free host port for the container about to be created; `publish` is the
   * container port its `-p` maps it to, undefined for a host-network container (told `PORT`).
   */
  | { kind: 'port'; publish: string | undefined }
  /** Proxy: point the upstream at the target's port (`port` undefined: the one just chosen). */
  | { kind: 'switch'; service: string; name: string; port: number | undefined; from: number | undefined }
  /** Proxy: let the old container finish its requests before it stops. */
  | { kind: 'drain'; ms: number };

export interface HostPlan {
  /** The container that runs at the end. */
  target: string;
  /** It exists already (a kept version): started, not pulled. */
  reuse: boolean;
  /** Running containers of the service this deploy stops (put back on auto-rollback). */
  previous: Container[];
  previousImage: string | undefined;
  /** Already running the requested version: nothing to do. */
  unchanged: boolean;
  steps: HostStep[];
}

export interface PlanInput {
  service: string;
  deployTag: string;
  image: string | undefined;
  healthCmd: string | undefined;
  /**
   * Absent or `none`: stop old, start new. `publish`: the container port of the one `-p` in
   * `run-args` (publish.ts), undefined for `--network host`.
   */
  proxy?: { healthPath: string | undefined; drainMs: number; publish?: string | undefined } | undefined;
}

export function planHost(input: PlanInput, containers: Container[]): HostPlan {
  const name = containerName(input.service, input.deployTag);
  const existing = containers.find((c) => c.name === name || c.deployTag === input.deployTag);
  const target = existing?.name ?? name;
  const running = containers.filter((c) => isRunning(c) && c.name !== target);
  const previousImage = running[0]?.image ?? (existing && isRunning(existing) ? existing.image : undefined);
  if (existing && isRunning(existing) && running.length === 0) {
    return { target, reuse: true, previous: [], previousImage, unchanged: true, steps: [] };
  }
  if (input.proxy) {
    return { ...proxiedPlan(input, input.proxy, existing, running, target), previousImage };
  }
  const steps: HostStep[] = [];
  if (!existing) {
    if (!input.image) {
      throw new ComposedError(
        msg`no kept container of ${input.deployTag} on this host and no image to pull it from`,
      );
    }
    steps.push({ kind: 'pull', image: input.image }, { kind: 'create', name: target, image: input.image });
  }
  for (const c of running) steps.push({ kind: 'stop', name: c.name });
  steps.push({ kind: 'start', name: target }, { kind: 'health', name: target, cmd: input.healthCmd });
  return { target, reuse: existing !== undefined, previous: running, previousImage, unchanged: false, steps };
}

function proxiedPlan(
  input: PlanInput,
  proxy: NonNullable<PlanInput['proxy']>,
  existing: Container | undefined,
  running: Container[],
  target: string,
): Omit<HostPlan, 'previousImage'> {
  if (existing && existing.port === undefined) {
    throw new ComposedError(
      msg`kept container ${existing.name} was not created behind the proxy (no own port); deploy it again`,
    );
  }
  const steps: HostStep[] = [];
  if (!existing) {
    if (!input.image) {
      throw new ComposedError(
        msg`no kept container of ${input.deployTag} on this host and no image to pull it from`,
      );
    }
    steps.push(
      { kind: 'pull', image: input.image },
      { kind: 'port', publish: proxy.publish },
      { kind: 'create', name: target, image: input.image },
    );
  }
  steps.push(
    { kind: 'start', name: target },
    { kind: 'health', name: target, cmd: input.healthCmd, path: proxy.healthPath },
    { kind: 'switch', service: input.service, name: target, port: existing?.port, from: running[0]?.port },
  );
  if (running.length > 0) steps.push({ kind: 'drain', ms: proxy.drainMs });
  for (const c of running) steps.push({ kind: 'stop', name: c.name });
  return { target, reuse: existing !== undefined, previous: running, unchanged: false, steps };
}

export function isRunning(c: Container): boolean {
  return c.state === 'running' || c.state === 'restarting';
}

/**
 * Containers to remove once the whole rollout is healthy: all but `keep`,
 * counting the one now running and then the newest others.
 */
export function planPrune(containers: Container[], running: string, keep: number): Container[] {
  const others = containers.filter((c) => c.name !== running);
  return others.slice(Math.max(0, keep - 1));
}

/** One step as a plan line: our words, the names and images as values (core/message.ts). */
export function describeStep(step: HostStep): Message {
  switch (step.kind) {
    case 'pull':
      return msg`docker pull ${step.image}`;
    case 'create':
      return msg`docker create ${step.name} from ${step.image}`;
    case 'stop':
      return msg`docker stop ${step.name}`;
    case 'start':
      return msg`docker start ${step.name}`;
    case 'port':
      return step.publish
        ? msg`choose a free host port for the new container (published as -p 127.0.0.1:<port>:${step.publish})`
        : msg`choose a free host port for the new container (given to it as PORT)`;
    case 'switch':
      return msg`nginx upstream ${upstreamName(step.service)} in ${upstreamFile(step.service)}: server ${step.from ? msg`127.0.0.1:${step.from}` : own('(none yet)')} -> ${step.port ? msg`127.0.0.1:${step.port}` : own('the new port')} (${step.name}); nginx -t, then nginx -s reload`;
    case 'drain':
      return msg`wait ${own(step.ms / 1000)}s for the old container to drain`;
    case 'health':
      if (step.path)
        return msg`GET ${step.path} on ${step.name}'s own port until it passes${step.cmd ? msg`, and health-cmd: ${step.cmd}` : ''}`;
      return step.cmd
        ? msg`run health-cmd until it passes: ${step.cmd}`
        : msg`check that ${step.name} is running (no health-cmd)`;
  }
}

export function describeHostPlan(where: string, plan: HostPlan, prune: Container[]): Message[] {
  if (plan.unchanged) return [msg`${where}: ${plan.target} already runs this version; nothing to do`];
  const lines = plan.steps.map((s) => msg`${where}: ${describeStep(s)}`);
  if (plan.reuse) lines.unshift(msg`${where}: start the kept container ${plan.target} (no pull)`);
  for (const c of prune) lines.push(msg`${where}: docker rm ${c.name} (beyond keep)`);
  return lines;
}
