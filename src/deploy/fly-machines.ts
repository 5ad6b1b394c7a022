import type { FlyMachine } from '../providers/fly/machines.ts';
import { digestOf } from './image.ts';

/**
 * Which machines of an app a deploy touches, in what order, and how each is
 * updated — pure functions of the machine list, as flyctl and fly-go decide them.
 */

/** Why a listed machine is left out of the deploy. */
export type Exclusion =
  | 'destroyed'
  | 'console'
  | 'release command'
  | 'not a platform machine'
  | 'other group';

export interface Selection {
  deploy: FlyMachine[];
  excluded: { machine: FlyMachine; reason: Exclusion }[];
}

/**
 * The process group of a machine: `fly_process_group` metadata, else the older `process_group`
 * key (fly-go machine_types.go `MachineConfig.ProcessGroup`).
 */
export function processGroupOf(machine: FlyMachine): string {
  const metadata = machine.config?.metadata ?? {};
  return metadata.fly_process_group || metadata.process_group || '';
}

/**
 * The machines a deploy updates, as fly-go's active-machine listing keeps them
 * (flaps/flaps_machines.go `ListActive`, `ListFlyAppsMachines`; machine_types.go `IsActive`,
 * `IsFlyAppsPlatform`, `IsFlyAppsConsole`, `IsReleaseCommandMachine`): not destroyed or
 * destroying, a Fly Launch platform machine (`fly_platform_version: v2`), not a `fly console`
 * machine (`fly_app_console`) and not a release-command machine. `failed` machines stay in: a
 * deploy is how they get a working version (flyctl machines_launchinput.go `shouldSkipLaunch`
 * launches them). With `processGroup`, only machines of that group.
 */
export function selectMachines(machines: readonly FlyMachine[], processGroup?: string): Selection {
  const deploy: FlyMachine[] = [];
  const excluded: Selection['excluded'] = [];
  for (const machine of machines) {
    const reason = exclusionOf(machine, processGroup);
    if (reason) excluded.push({ machine, reason });
    else deploy.push(machine);
  }
  return { deploy, excluded };
}

function exclusionOf(machine: FlyMachine, processGroup: string | undefined): Exclusion | undefined {
  if (machine.state === 'destroyed' || machine.state === 'destroying') return 'destroyed';
  const metadata = machine.config?.metadata ?? {};
  const group = processGroupOf(machine);
  if (group === 'fly_app_release_command' || metadata.process_group === 'release_command')
    return 'release command';
  if (metadata.fly_platform_version !== 'v2') return 'not a platform machine';
  if (group === 'fly_app_console') return 'console';
  if (processGroup !== undefined && group !== processGroup) return 'other group';
  return undefined;
}

/**
 * Whether an update starts the new version: only for a machine that runs or tries to (`started`,
 * `starting`, `failed`); `stopped`, `suspended`, `created` and the transitions into them
 * (`stopping`, `suspending`) get the new config without being launched (flyctl
 * internal/command/deploy/machines_launchinput.go `shouldSkipLaunch`).
 */
export function launchesOnUpdate(state: string): boolean {
  return state === 'started' || state === 'starting' || state === 'failed';
}

/** States in which POST /start answers 412: the machine is on its way somewhere else. */
export const TRANSITIONAL_STATES: ReadonlySet<string> = new Set([
  'stopping',
  'suspending',
  'replacing',
  'updating',
  'restarting',
  'creating',
  'destroying',
]);

/**
 * The digest the machine runs: what the platform resolved (`image_ref.digest`), else the digest
 * its config pins. Undefined when neither says.
 */
export function runningDigest(machine: FlyMachine): string | undefined {
  const ref = machine.image_ref as { digest?: unknown } | undefined;
  const resolved = typeof ref?.digest === 'string' && ref.digest ? ref.digest : undefined;
  return resolved ?? digestOf(machine.config?.image);
}

/**
 * "Already runs this version" by digest, never by name: a tag pushed again is a new version
 * under the same string, and the same digest under another name is the same version. Without a
 * digest on either side nothing is known, and the machine is deployed.
 */
export function runsImage(machine: FlyMachine, image: string): boolean {
  const wanted = digestOf(image);
  return wanted !== undefined && runningDigest(machine) === wanted;
}

/**
 * Rollout order. Machines that launch come first, in list order, so the first batch proves the
 * image on a running machine; machines updated without launching come last, since they prove
 * nothing. For `canary` the lone first machine is a started one when there is one (flyctl
 * internal/command/deploy/machines_deploymachinesapp.go, canary case of
 * `updateExistingMachinesWRecovery`).
 */
export function rolloutOrder(machines: readonly FlyMachine[], strategy: string): FlyMachine[] {
  const launching = machines.filter((m) => launchesOnUpdate(m.state));
  const cold = machines.filter((m) => !launchesOnUpdate(m.state));
  if (strategy === 'canary') {
    const canary = launching.findIndex((m) => m.state === 'started');
    if (canary > 0) launching.unshift(...launching.splice(canary, 1));
  }
  return [...launching, ...cold];
}
