import { tmpdir } from 'node:os';
import type { ActionContext } from '../core/action.ts';
import type { HttpClient } from '../core/http.ts';
import { joinMessages, msg, own, redactMessage } from '../core/message.ts';
import { createFlyClient } from '../providers/fly/client.ts';
import { FlyLeases } from '../providers/fly/leases.ts';
import { FlyMachines } from '../providers/fly/machines.ts';
import { createGitHubClient } from '../providers/github/client.ts';
import { GitHubDeployments } from '../providers/github/deployments.ts';
import { normalisePrivateKey } from '../providers/ssh/private-key.ts';
import { SshSession } from '../providers/ssh/session.ts';
import { DEPLOYMENT_STATE } from './deployment-state.ts';
import { destroyLeftoverGreen, FLY_GREEN_STATE, parseGreen } from './fly-green-state.ts';
import { FLY_LEASES_STATE, parseLeaseIntent, releaseLeftoverLeases } from './fly-lease-state.ts';
import { LOCKS_STATE } from './ssh/lock-set.ts';
import { parseHeldLocks, releaseLock } from './ssh/release.ts';

/**
 * What the post step (`post-if: always()`) finishes when the main step was
 * cancelled or killed before it could: green Fly machines of a blue-green
 * deploy that traffic never moved to (destroyed), ssh deploy locks and Fly
 * leases it recorded (each released only while it is still this run's), then a GitHub
 * deployment it left without a final status gets `error`. Each part reads
 * only the state the main step saved; with no state there is nothing to do
 * and no request is sent.
 */
export async function finishLeftovers(ctx: ActionContext): Promise<void> {
  const green = await destroyGreen(ctx);
  const released = (await releaseSshLocks(ctx)) + (await releaseFlyLeases(ctx));
  await finaliseDeployment(ctx, released, green);
}

function flyClient(ctx: ActionContext): HttpClient {
  return createFlyClient({
    baseUrl: ctx.inputs.optional('fly-api-url') || undefined,
    token: ctx.inputs.raw('fly-api-token'),
    redact: (text) => ctx.secrets.redact(text),
    // The post step runs after a cancellation: a short wait for a rate limit, then a warning.
    waitBound: { budgetMs: 10_000, name: 'the post step' },
    log: (line) => ctx.info(line),
  });
}

async function destroyGreen(ctx: ActionContext): Promise<GreenCounts> {
  const state = parseGreen(ctx.getState(FLY_GREEN_STATE));
  if (!state || state.machines.length === 0) return { destroyed: 0, kept: [] };
  const results = await destroyLeftoverGreen(new FlyMachines(flyClient(ctx), state.app), state);
  for (const r of results) {
    ctx.log.write({
      step: 'fly.green.destroy',
      outcome: r.result === 'failed' ? 'failed' : r.result === 'kept' ? 'skipped' : 'ok',
      ids: { app: state.app, machine: r.machine },
      detail: r.detail ? msg`${own(r.result)}: ${r.detail}` : own(r.result),
    });
    if (r.result === 'failed')
      ctx.warning(
        msg`could not destroy green machine ${r.machine} of Fly app ${state.app}: ${r.detail} (destroy it with fly machines destroy --force ${r.machine})`,
      );
    if (r.result === 'kept')
      ctx.warning(
        msg`kept green machine ${r.machine} of Fly app ${state.app}: ${r.detail}. Check which machines serve (fly machines list), then uncordon blue or destroy it by hand (fly machines destroy --force ${r.machine}).`,
      );
  }
  const destroyed = results.filter((r) => r.result === 'destroyed' || r.result === 'already gone').length;
  ctx.info(
    msg`Green machines the deploy step left before traffic moved to them: ${destroyed} of ${results.length} destroyed (${joinMessages(
      results.map((r) => msg`${r.machine} ${own(r.result)}${r.detail ? msg`: ${r.detail}` : ''}`),
      ', ',
    )}).`,
  );
  return { destroyed, kept: results.filter((r) => r.result === 'kept').map((r) => r.machine) };
}

interface GreenCounts {
  destroyed: number;
  /** Uncordoned greens left because no blue machine was seen serving. */
  kept: string[];
}

async function releaseSshLocks(ctx: ActionContext): Promise<number> {
  const held = parseHeldLocks(ctx.getState(LOCKS_STATE));
  if (held.length === 0) {
    ctx.info('No deploy locks left to release.');
    return 0;
  }
  const key = ctx.inputs.optional('ssh-key');
  const session = await SshSession.open(
    {
      key: key === undefined ? undefined : normalisePrivateKey(key, 'ssh-key'),
      knownHosts: ctx.inputs.raw('ssh-known-hosts'),
    },
    ctx.env.RUNNER_TEMP || tmpdir(),
    { redactor: ctx.secrets.redactor },
  );
  let released = 0;
  try {
    for (const lock of held) {
      const result = await releaseLock(ctx, session, lock);
      if (result === 'released') released++;
      ctx.log.write({
        step: 'ssh.unlock',
        outcome: result === 'failed' ? 'failed' : 'ok',
        ids: { host: lock.host, service: lock.service },
        detail: own(result),
      });
    }
  } finally {
    await session.close();
  }
  return released;
}

async function releaseFlyLeases(ctx: ActionContext): Promise<number> {
  const intent = parseLeaseIntent(ctx.getState(FLY_LEASES_STATE));
  if (!intent || intent.machines.length === 0) return 0;
  const results = await releaseLeftoverLeases(new FlyLeases(flyClient(ctx), intent.app), intent);
  for (const r of results) {
    ctx.log.write({
      step: 'fly.lease.release',
      outcome: r.result === 'failed' ? 'failed' : 'ok',
      ids: { app: intent.app, machine: r.machine },
      detail: r.detail ? msg`${own(r.result)}: ${r.detail}` : own(r.result),
    });
    if (r.result === 'failed') ctx.warning(msg`could not release the Fly lease of ${r.machine}: ${r.detail}`);
  }
  const released = results.filter((r) => r.result === 'released').length;
  ctx.info(
    msg`Fly leases left by the deploy step: ${released} released, ${results.length - released} no longer ours or already gone.`,
  );
  return released;
}

const UNFINISHED = new Set(['in_progress', 'queued', 'pending']);

async function finaliseDeployment(ctx: ActionContext, released: number, green: GreenCounts): Promise<void> {
  const id = Number(ctx.getState(DEPLOYMENT_STATE));
  const token = ctx.inputs.raw('github-token');
  const repository = ctx.env.GITHUB_REPOSITORY;
  if (!Number.isSafeInteger(id) || id <= 0 || !token || !repository) return;
  const history = new GitHubDeployments(
    createGitHubClient({
      apiUrl: ctx.inputs.optional('github-api-url') || ctx.env.GITHUB_API_URL || 'https://api.github.com',
      token,
      redact: (text) => ctx.secrets.redact(text),
      // The post step runs after a cancellation: a short wait for a rate limit, then a warning.
      rateLimitBudget: { ms: 10_000, bound: 'the post step' },
      log: (line) => ctx.info(line),
      env: ctx.env,
    }),
    repository,
  );
  const [latest] = await history.statuses(id);
  if (latest && !UNFINISHED.has(latest.state)) {
    ctx.info(msg`GitHub deployment ${id} already has its final status (${latest.state}).`);
    return;
  }
  // GitHub keeps 140 characters of a description.
  const note = joinMessages(
    [
      green.kept.length > 0
        ? msg`; green ${joinMessages(green.kept, ', ')} may serve (blue cordoned): kept`
        : '',
      green.destroyed > 0
        ? msg`; the post step destroyed ${own(green.destroyed)} unused green machine(s)`
        : '',
      released > 0 ? msg`; the post step released ${own(released)} lease(s)/lock(s)` : '',
    ],
    '',
  );
  await history
    .setStatus(id, {
      state: 'error',
      description: redactMessage(
        msg`cancelled: the deploy step ended without an outcome${note}`,
        ctx.secrets.redactor,
      ),
    })
    .then(
      () => {
        ctx.info(
          msg`GitHub deployment ${id} marked error: the deploy step ended without recording an outcome.`,
        );
        ctx.log.write({
          step: 'github.deployment.status',
          outcome: 'ok',
          ids: { deployment: id, state: 'error' },
        });
      },
      (error: unknown) => ctx.warning(msg`could not finalise GitHub deployment ${id}: ${error}`),
    );
}
