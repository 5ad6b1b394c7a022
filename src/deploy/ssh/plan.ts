import { type Container, containerName } from './commands.ts';

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
 */

export type HostStep =
  | { kind: 'pull'; image: string }
  | { kind: 'create'; name: string; image: string }
  | { kind: 'stop'; name: string }
  | { kind: 'start'; name: string }
  | { kind: 'health'; name: string; cmd: string | undefined };

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
  const steps: HostStep[] = [];
  if (!existing) {
    if (!input.image) {
      throw new Error(`no kept container of ${input.deployTag} on this host and no image to pull it from`);
    }
    steps.push({ kind: 'pull', image: input.image }, { kind: 'create', name: target, image: input.image });
  }
  for (const c of running) steps.push({ kind: 'stop', name: c.name });
  steps.push({ kind: 'start', name: target }, { kind: 'health', name: target, cmd: input.healthCmd });
  return { target, reuse: existing !== undefined, previous: running, previousImage, unchanged: false, steps };
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

export function describeStep(step: HostStep): string {
  switch (step.kind) {
    case 'pull':
      return `docker pull ${step.image}`;
    case 'create':
      return `docker create ${step.name} from ${step.image}`;
    case 'stop':
      return `docker stop ${step.name}`;
    case 'start':
      return `docker start ${step.name}`;
    case 'health':
      return step.cmd
        ? `run health-cmd until it passes: ${step.cmd}`
        : `check that ${step.name} is running (no health-cmd)`;
  }
}

export function describeHostPlan(where: string, plan: HostPlan, prune: Container[]): string[] {
  if (plan.unchanged) return [`${where}: ${plan.target} already runs this version; nothing to do`];
  const lines = plan.steps.map((s) => `${where}: ${describeStep(s)}`);
  if (plan.reuse) lines.unshift(`${where}: start the kept container ${plan.target} (no pull)`);
  for (const c of prune) lines.push(`${where}: docker rm ${c.name} (beyond keep)`);
  return lines;
}
