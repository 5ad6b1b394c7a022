import { ComposedError, msg } from '../../core/message.ts';
import * as cmd from './commands.ts';
import type { DeployHost } from './hosts.ts';
import { failureOf, type Remote } from './lock.ts';

/** The service's containers on one host (`docker ps -a`, read-only). */
export async function listOn(remote: Remote, host: DeployHost, service: string): Promise<cmd.Container[]> {
  const result = await remote.run(host.login, cmd.listContainers(service), { timeoutMs: 60_000 });
  if (result.code !== 0) throw new ComposedError(msg`docker ps${failureOf(result)}`);
  return cmd.parseContainers(result.output);
}
