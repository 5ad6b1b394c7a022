import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { APP, createWorld, type World } from '../clone/world.ts';
import { flyInputs, resultsOf, startFly } from '../config-update/fixtures.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * Issue 12 point 5 for the summaries of clone and config-update (deploy's is in
 * mixed-strings.e2e.test.ts, from the same failing Heroku deploy): a
 * short secret the user named (a secret input `on` or `pl`) is redacted in the
 * values from outside — provider messages, ids, names — while our own wording
 * around them (headings, field names, status words) and the outputs we
 * composed stay as written. Each summary is rendered from data redacted field
 * by field (src/core/redacted-data.ts).
 */

const REDACTED = '[REDACTED:secret]';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('own wording in summaries with a short named secret', () => {
  it('clone: the heading and step wording stay; a Heroku message quoting it is redacted', async () => {
    const w: World = await createWorld();
    stops.push(() => w.stop());
    w.heroku.server.inject({
      route: 'domain.create',
      fault: herokuFault(422, 'hostname refused: on the list of blocked names'),
    });
    // dns-token is a secret input the user set; with dns-provider none it is only masked.
    const run = await w.run({ 'dns-provider': 'none', 'dns-token': 'on', 'wait-for-certificate': 'false' });
    expect(run.code).toBe(1);
    expect(run.summary).toMatch(new RegExp(`^### Clone fetlife-prod → ${APP} failed$`, 'm'));
    expect(run.summary).toContain('<th>status</th>');
    expect(run.summary).toContain('✅ done');
    expect(run.summary).toContain(`${REDACTED} the list of blocked names`);
    expect(run.summary).not.toContain('on the list');
    expect(run.summary).not.toContain(`Cl${REDACTED}e`);
    const plan = JSON.parse(run.outputs.plan!) as { step: string; status: string }[];
    expect(plan.map((s) => s.step)).toContain('domain.add');
    expect(plan.find((s) => s.step === 'domain.add')?.status).toBe('failed');
  }, 90_000);

  it('config-update (fly): title, totals and outcomes stay; a machine id and error quoting it are redacted', async () => {
    const fly = await startFly();
    stops.push(() => fly.stop());
    fly.addMachine({ id: 'e100', region: 'ams' });
    fly.addMachine({ id: 'e2on', region: 'ams' });
    fly.setAppBehaviour('e2on', { status: 422 });
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly, { 'auth-token': 'on', 'max-failures': '1' }),
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ total: '2', succeeded: '1', failed: '1', skipped: '0' });
    expect(run.summary).toMatch(/^## Config update: Fly app smooth$/m);
    expect(run.summary).toMatch(/at concurrency \d+\./);
    const results = resultsOf(run.outputs);
    expect(results.map((r) => [r.id, r.outcome])).toEqual([
      ['e100', 'ok'],
      [`e2${REDACTED}`, 'failed'],
    ]);
    // Every line of results-file parses, with our keys (`region` holds `on`) and outcome words.
    const lines = readFileSync(run.outputs['results-file']!, 'utf8').trim().split('\n');
    expect(
      lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((r) => [r.region, r.outcome]),
    ).toEqual(
      expect.arrayContaining([
        ['ams', 'ok'],
        ['ams', 'failed'],
      ]),
    );
    expect(run.summary).toContain(`<td>e2${REDACTED}</td>`);
    expect(run.summary).not.toContain('e2on');
    expect(run.everything).not.toContain('e2on');
  }, 60_000);
});
