import { afterEach, describe, expect, it } from 'vitest';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { APP, createWorld, endState, expectedEndState, SECRETS, type World } from './world.ts';

/**
 * For each mutating step k: the run fails at k, a re-run finishes the job, the end
 * state is the one of an uninterrupted run, and nothing was created twice.
 */

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const hetznerForbidden = { status: 403, json: { error: { code: 'forbidden', message: 'injected fault' } } };

interface Case {
  title: string;
  step: string;
  provider: 'hetzner' | 'cloudflare';
  arm(w: World): void;
  /** Clears a knob-made failure before the re-run (faults are one-shot). */
  disarm?(w: World): void;
  /** What the failed run must say. */
  message?: RegExp;
  /** Successful promotions in total (a failed promotion target is retried by the re-run). */
  promotions?: number;
  claimed?: boolean;
}

const cases: Case[] = [
  {
    title: 'app create',
    step: 'app.create',
    provider: 'hetzner',
    arm: (w) => w.heroku.server.inject({ route: 'app.create', fault: herokuFault(403, 'injected fault') }),
  },
  {
    title: 'the marker right after the create (crash window): the empty app is claimed',
    step: 'app.create',
    provider: 'hetzner',
    arm: (w) =>
      w.heroku.server.inject({
        route: 'config-var.update',
        call: 1,
        fault: herokuFault(403, 'injected fault'),
      }),
    claimed: true,
  },
  {
    title: 'config vars',
    step: 'config.set',
    provider: 'hetzner',
    arm: (w) =>
      w.heroku.server.inject({
        route: 'config-var.update',
        call: 2,
        fault: herokuFault(422, 'injected fault'),
      }),
  },
  {
    title: 'pipeline coupling',
    step: 'pipeline.couple',
    provider: 'hetzner',
    arm: (w) =>
      w.heroku.server.inject({
        route: 'pipeline-coupling.create',
        fault: herokuFault(403, 'injected fault'),
      }),
  },
  {
    title: 'ACM',
    step: 'acm.enable',
    provider: 'hetzner',
    arm: (w) =>
      w.heroku.server.inject({ route: 'app.enable-acm', fault: herokuFault(403, 'injected fault') }),
  },
  {
    title: 'custom domain',
    step: 'domain.add',
    provider: 'hetzner',
    arm: (w) => w.heroku.server.inject({ route: 'domain.create', fault: herokuFault(422, 'injected fault') }),
  },
  {
    title: 'Hetzner rrset create',
    step: 'dns.upsert',
    provider: 'hetzner',
    arm: (w) => w.hetzner.server.inject({ route: 'create_rrset', fault: hetznerForbidden }),
  },
  {
    title: 'Hetzner action ending in error after the rrset was stored',
    step: 'dns.upsert',
    provider: 'hetzner',
    arm: (w) => w.hetzner.failNextAction('rrset_update_failed', 'zone update failed'),
    message: /create_rrset \(\d+\) ended in error: rrset_update_failed: zone update failed/,
  },
  {
    title: 'Cloudflare record create',
    step: 'dns.upsert',
    provider: 'cloudflare',
    arm: (w) =>
      w.cloudflare.server.inject({
        route: 'POST /client/v4/zones/:zone/dns_records',
        fault: {
          status: 403,
          json: {
            success: false,
            errors: [{ code: 10000, message: 'injected' }],
            messages: [],
            result: null,
          },
        },
      }),
  },
  {
    title: 'promotion create',
    step: 'release.promote',
    provider: 'hetzner',
    arm: (w) =>
      w.heroku.server.inject({
        route: 'pipeline-promotion.create',
        fault: herokuFault(422, 'injected fault'),
      }),
  },
  {
    title: 'promotion target failing',
    step: 'release.promote',
    provider: 'hetzner',
    arm: (w) => w.heroku.knobs.promotionFailures.set(APP, 'Release command failed'),
    disarm: (w) => w.heroku.knobs.promotionFailures.clear(),
    message: /failed: Release command failed/,
    promotions: 2,
  },
];

describe('resume after a failure at each mutating step', () => {
  it.each(cases)('$title', async (c) => {
    w = await createWorld();
    c.arm(w);
    const failed = await w.run({ 'dns-provider': c.provider });
    expect(failed.code).toBe(1);
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors[0]).toMatch(/^Could not /);
    expect(failed.errors[0]).not.toContain(c.step);
    expect(failed.log.find((e) => e.outcome === 'failed')).toMatchObject({ step: c.step });
    expect(failed.errors[0]).toContain('run again to finish the clone');
    if (c.message) expect(failed.errors[0]).toMatch(c.message);
    expect(w.servers()).toEqual([]);
    expect(
      JSON.parse(failed.outputs.plan!).find((s: { status: string }) => s.status === 'failed'),
    ).toMatchObject({
      step: c.step,
    });

    c.disarm?.(w);
    const rerun = await w.run({ 'dns-provider': c.provider });
    expect(rerun.errors).toEqual([]);
    expect(rerun.code).toBe(0);
    expect(endState(w, c.provider)).toEqual(expectedEndState(w, c.provider));
    if (c.claimed) expect(rerun.stdout).toContain(`::warning::Claimed Heroku app ${APP}`);

    // Nothing made twice.
    expect(w.succeeded(w.heroku, 'app.create')).toBe(1);
    expect(w.succeeded(w.heroku, 'pipeline-coupling.create')).toBe(1);
    expect(w.succeeded(w.heroku, 'domain.create')).toBe(1);
    expect(w.succeeded(w.heroku, 'pipeline-promotion.create')).toBe(c.promotions ?? 1);
    expect(w.succeeded(w.heroku, 'app.delete')).toBe(0);
    if (c.provider === 'hetzner') expect(w.succeeded(w.hetzner, 'create_rrset')).toBe(1);
    else expect(w.succeeded(w.cloudflare, 'POST /client/v4/zones/:zone/dns_records')).toBe(1);
    expect(w.heroku.state.domains.filter((d) => d.kind === 'custom')).toHaveLength(1);
    expect(w.heroku.state.couplings).toHaveLength(2);

    for (const secret of SECRETS) {
      expect(failed.everything).not.toContain(secret);
      expect(rerun.everything).not.toContain(secret);
    }
    expect(w.violations()).toEqual([]);
  });
});
