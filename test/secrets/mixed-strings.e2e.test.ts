import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { createWorld } from '../clone/world.ts';
import { startHerokuWorld } from '../deploy/worlds.ts';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle, UNSPACED_GITHUB_WRITES } from '../helpers/run-bundle.ts';

/**
 * Mixed strings through the committed bundles: errors, plan lines and notes are
 * composed as our words around values (src/core/message.ts), so a two-character
 * secret the user named (`pl`: in "deploy", "plan", "completed") is redacted in
 * every value from outside, in all its forms, while our words around them stay
 * whole — in what we write ourselves: the `::error::` line, the job summary,
 * the outputs and the operations log. (The runner masks its log again with its
 * own rules, which we cannot change: there `pl` is hidden inside our words too.)
 */

const REDACTED = '[REDACTED:secret]';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('mixed strings with a short named secret', () => {
  it('deploy (heroku): the error, the plan and the log keep our words; the provider text quoting it is redacted', async () => {
    const world = await startHerokuWorld({ knobs: { buildLineIntervalMs: 5 } });
    stops.push(() => world.stop());
    world.heroku.server.inject({
      route: 'POST /apps/:app/builds',
      fault: herokuFault(422, 'source_blob refused: bad pl here'),
    });
    const run = await runBundle('deploy', {
      env: UNSPACED_GITHUB_WRITES,
      inputs: {
        ...world.inputs(),
        'heroku-app': 'web-prod',
        'registry-password': 'pl',
        'registry-username': 'bot',
        'health-timeout': '20',
        'source-url': 'https://example.test/pl.tgz',
      },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    const [error] = run.errors;
    expect(error).toMatch(
      /^Could not deploy to heroku \(production\): Heroku answered POST \/apps\/web-prod\/builds/,
    );
    expect(error).toContain(`bad ${REDACTED} here`);
    expect(error).not.toMatch(/\bpl\b/);
    // The summary's error row and the unit's outcome.
    expect(run.summary).toContain(
      `<td>error</td><td>Heroku answered POST /apps/web-prod/builds with HTTP 422: source_blob refused: bad ${REDACTED} here (request id `,
    );
    expect(run.summary).toContain(`<td>failed: Heroku answered POST /apps/web-prod/builds with HTTP 422`);
    expect(run.summary).not.toContain(`de${REDACTED}oy`);
    // The summary's own wording (issue 12 point 5): heading, field names and the ids we composed stay.
    expect(run.outputs['deploy-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.outputs['deployment-id']).toMatch(/^\d+$/);
    expect(run.summary).toMatch(/^## deploy to heroku \(production\): failed$/m);
    for (const own of ['deploy id', 'deploy tag', 'GitHub deployment', 'error'])
      expect(run.summary).toContain(`<td>${own}</td>`);
    expect(run.summary).toContain(`<td>${run.outputs['deploy-id']}</td>`);
    expect(run.summary).toContain(`<td>deploy_${run.outputs['deploy-id']!.slice(0, 8)}</td>`);
    expect(run.summary).not.toContain('bad pl here');
    // The plan names the source URL (a value: redacted, `example` too) in our words (kept).
    expect(run.summary).toContain(
      `{source_blob.url: https://exam${REDACTED}e.test/${REDACTED}.tgz, version: deploy_`,
    );
    expect(run.summary).toContain('stream the build output, wait for the build and its release');
    // The operations log: the failure detail as the error line says it.
    const failed = run.log.filter((e) => e.outcome === 'failed' && typeof e.detail === 'string');
    expect(failed.map((e) => e.detail)).toContain(error);
    const written = `${run.summary}\n${JSON.stringify(run.log)}\n${readFileSync(run.outputs['log-file']!, 'utf8')}`;
    expect(written).not.toMatch(/\bpl\b/);
  }, 60_000);

  it('clone: the failure, the plan output and the step descriptions keep "domain"; the provider text quoting `ma` is redacted', async () => {
    const w = await createWorld();
    stops.push(() => w.stop());
    w.heroku.server.inject({
      route: 'domain.create',
      fault: herokuFault(422, 'hostname refused: ma is on the list of blocked names'),
    });
    // A secret input the user set, two characters long: `ma` is in our "domain".
    const run = await w.run({ 'dns-provider': 'none', 'dns-token': 'ma', 'wait-for-certificate': 'false' });
    expect(run.code).toBe(1);
    const [error] = run.errors;
    // The request line is one value from outside, redacted as a whole (`/do[REDACTED:secret]ins`).
    expect(error).toMatch(/^Could not add domain \S+ to \S+: Heroku answered POST \S+ with HTTP 422: /);
    expect(error).toContain(`hostname refused: ${REDACTED} is on the list of blocked names`);
    expect(run.summary).toContain('**Failed:** Could not add domain ');
    expect(run.summary).not.toContain(`add do${REDACTED}in`);
    const plan = JSON.parse(run.outputs.plan!) as { step: string; description: string }[];
    expect(plan.find((s) => s.step === 'domain.add')?.description).toMatch(/^add domain \S+ to \S+$/);
    expect(`${run.summary}${run.outputs.plan}`).not.toMatch(/\bma\b/);
  }, 90_000);

  it("evidence: a timed-out check's note keeps our words; the output quoting `ou` is redacted", async () => {
    const ws = workspaceWith(`
target: t1
checks:
  - id: slow
    run: echo "you out"; sleep 5
    timeout: 1
`);
    const run = await runBundle('evidence', {
      cwd: ws,
      inputs: { upload: 'false', milestone: 'gates-pass', redact: 'ou' },
    });
    const text = evidenceFiles(ws)[0]!.text;
    // Before, the note was redacted whole: `timed [REDACTED:secret]t after 1 s`.
    expect(text).toContain('- note: timed out after 1 s: the check was killed');
    expect(text).toContain(`y${REDACTED} ${REDACTED}t`);
    expect(text).not.toMatch(/\byou out\b/);
    expect(run.summary).not.toContain('you out');
  }, 60_000);
});
