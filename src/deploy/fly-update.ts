import type { FlyMachine, MachineUpdate } from '../providers/fly/machines.ts';

/**
 * The body of POST /apps/{app}/machines/{id} that moves a machine to an image, as flyctl builds
 * its update (internal/command/deploy/machines_launchinput.go `launchInputForUpdate`): the
 * machine's full current config with the image changed, its own `region`, the app's minimum
 * secrets version when one is known (flyctl reads it from internal/appsecrets/minvers.go; here it
 * is the `fly-min-secrets-version` input), and `skip_launch` for a machine that is not running.
 */

interface Container {
  name?: unknown;
  image?: unknown;
  [key: string]: unknown;
}

/**
 * The container of a multi-container config that runs the app's image: the one that runs the
 * machine's current top-level image, else the one named `app`, else the first — flyctl gives the
 * built image to the container the user named, else `app`, else the first
 * (internal/containerconfig/parse.go) and to every container whose image is `.`
 * (machines_launchinput.go `updateContainerImage`).
 */
export function appContainerIndex(
  containers: readonly Container[],
  currentImage: string | undefined,
): number {
  if (containers.length === 0) return -1;
  const same = containers.findIndex((c) => currentImage !== undefined && c.image === currentImage);
  if (same >= 0) return same;
  const app = containers.findIndex((c) => c.name === 'app');
  return Math.max(app, 0);
}

export function updateBody(
  machine: Pick<FlyMachine, 'region' | 'config'>,
  image: string,
  options: { launch: boolean; minSecretsVersion?: number | undefined },
): MachineUpdate {
  const config: Record<string, unknown> = { ...(machine.config ?? {}), image };
  const containers = machine.config?.containers;
  if (Array.isArray(containers) && containers.length > 0) {
    const app = appContainerIndex(containers as Container[], machine.config?.image);
    config.containers = (containers as Container[]).map((c, i) =>
      i === app || c.image === '.' ? { ...c, image } : c,
    );
  }
  return {
    config,
    ...(machine.region ? { region: machine.region } : {}),
    ...(options.minSecretsVersion !== undefined ? { minSecretsVersion: options.minSecretsVersion } : {}),
    ...(options.launch ? {} : { skipLaunch: true }),
  };
}
