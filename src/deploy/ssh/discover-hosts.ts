import type { ActionContext } from '../../core/action.ts';
import { ApiError, StepError } from '../../core/errors.ts';
import { msg } from '../../core/message.ts';
import { createDigitalOceanClient } from '../../providers/digitalocean/client.ts';
import { listDropletsByTag } from '../../providers/digitalocean/droplets.ts';
import type { SshDeploySettings } from '../inputs.ts';
import { type DeployHost, fromDroplets, fromHostsInput } from './hosts.ts';

/** The hosts to deploy to: the `hosts` input, or the droplets carrying `digitalocean-tag` when a token is given. */
export async function resolveHosts(settings: SshDeploySettings, ctx: ActionContext): Promise<DeployHost[]> {
  const token = settings.digitalocean.token;
  if (!token) return fromHostsInput(settings.hosts);
  const tag = settings.digitalocean.tag;
  const client = createDigitalOceanClient({
    baseUrl: settings.digitalocean.apiUrl,
    token,
    redact: (text) => ctx.secrets.redact(text),
    // Discovery comes before any lock is taken: a rate limit may hold it up as long as a lock may.
    // All pages of the listing share one deadline; the runner's cancellation cuts any wait.
    waitBound: {
      budgetMs: settings.lockTimeoutMs,
      deadlineAt: Date.now() + settings.lockTimeoutMs,
      name: 'the input lock-timeout',
    },
    signal: ctx.cancellation.signal,
    log: (line) => ctx.info(line),
  });
  const droplets = await ctx.log.step('digitalocean.droplets.list', { tag }, () =>
    listDropletsByTag(client, tag).catch((error: unknown) => {
      if (!(error instanceof ApiError)) throw error;
      throw new StepError(
        'digitalocean.droplets.list',
        msg`find the droplets tagged ${JSON.stringify(tag)} on DigitalOcean`,
        error,
      );
    }),
  );
  const choice = fromDroplets(tag, droplets, settings.hosts);
  for (const m of choice.merged) ctx.info(msg`DigitalOcean: ${m}.`);
  for (const s of choice.skipped)
    ctx.warning(msg`Droplet ${s.name} carries ${tag} but is skipped: ${s.reason}.`);
  ctx.info(
    msg`DigitalOcean: ${choice.hosts.length} droplet(s) tagged ${tag}: ${choice.hosts.map((h) => msg`${h.id} (${h.where})`).join(', ')}`,
  );
  return choice.hosts;
}
