import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createKamalFake, type KamalFake } from '../../sandbox/fakes/kamal.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { AUTH_TOKEN, expectNoSecrets, progressLines, resultsOf } from './fixtures.ts';

let kamal: KamalFake | undefined;
afterEach(async () => {
  if (kamal) {
    for (const host of kamal.hosts) expect(host.server.violations).toEqual([]);
    await kamal.stop();
  }
  kamal = undefined;
});

async function startKamal(hosts: string[]): Promise<KamalFake> {
  kamal = createKamalFake({ hosts });
  await kamal.start();
  return kamal;
}

function kamalInputs(k: KamalFake, extra: Record<string, string> = {}): Record<string, string> {
  return {
    target: 'kamal',
    urls: k.hosts.map((h) => `${h.url}/update_config`).join('\n'),
    'auth-token': AUTH_TOKEN,
    ...extra,
  };
}

const hostId = (k: KamalFake, name: string) => new URL(k.host(name).url).host;

describe('config-update on Kamal hosts (bundle against the sandbox)', () => {
  it('sends one request to every URL, without the Fly header', async () => {
    const k = await startKamal(['web-1', 'web-2', 'web-3']);
    const run = await runBundle('config-update', {
      inputs: kamalInputs(k, { headers: 'X-Reason: deploy', body: 'regenerate' }),
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    for (const host of k.hosts) {
      expect(host.server.requests).toHaveLength(1);
      const req = host.server.requests[0]!;
      expect(req).toMatchObject({ method: 'POST', path: '/update_config', body: 'regenerate' });
      expect(req.headers['fly-force-instance-id']).toBeUndefined();
      expect(req.headers['x-reason']).toBe('deploy');
      expect(req.headers.authorization).toBe(`Bearer ${AUTH_TOKEN}`);
      // not JSON: no content type invented
      expect(req.headers['content-type']).toBeUndefined();
    }
    expect(run.stdout).toContain('Will update 3 hosts');
    const results = resultsOf(run.outputs);
    expect(results.map((r) => r.id).sort()).toEqual(k.hosts.map((h) => new URL(h.url).host).sort());
    expect(results.every((r) => r.outcome === 'ok' && r.region === null && r.attempts === 1)).toBe(true);
    // results-file: the same entries, one JSON line each, in RUNNER_TEMP.
    const file = run.outputs['results-file']!;
    expect(file.startsWith(run.dir)).toBe(true);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect([...lines].sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1))).toEqual(
      [...results].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    expectNoSecrets(run.everything);
  });

  it('prints each progress line the moment its host finishes, in completion order', async () => {
    const k = await startKamal(['slow', 'fast', 'medium']);
    k.setBehaviour('slow', { latencyMs: 2500 });
    k.setBehaviour('medium', { latencyMs: 1200 });
    k.setBehaviour('fast', { latencyMs: 100 });
    const seen: { line: string; at: number }[] = [];
    const started = performance.now();
    const run = await runBundle('config-update', {
      inputs: kamalInputs(k, { concurrency: '3' }),
      onLine: (line) => seen.push({ line, at: performance.now() - started }),
    });
    const ended = performance.now() - started;
    expect(run.code).toBe(0);
    const lines = seen.filter((s) => /^\[\s*\d+\/3/.test(s.line));
    expect(lines.map((l) => /^\[[^\]]+\] (\S+)/.exec(l.line)?.[1])).toEqual(
      ['fast', 'medium', 'slow'].map((n) => hostId(k, n)),
    );
    expect(lines[0]!.line).toMatch(/^\[1\/3 {2}33%\] \S+ ok status=200 attempts=1 \d+ms$/);
    expect(lines[2]!.line).toMatch(/^\[3\/3 100%\]/);
    // the fast host's line reached us while the slow host was still being waited for
    expect(ended - lines[0]!.at).toBeGreaterThan(1500);
    expect(lines[1]!.at - lines[0]!.at).toBeGreaterThan(500);
    const will = seen.findIndex((s) => s.line.startsWith('Will update 3 hosts'));
    expect(will).toBeGreaterThanOrEqual(0);
    expect(will).toBeLessThan(seen.indexOf(lines[0]!));
    expect(seen.at(-1)?.line ?? run.stdout).toBeDefined();
    expect(run.stdout).toMatch(/Done in .*: 3 ok, 0 failed, 0 skipped of 3/);
  });

  it('cuts the whole run at deadline: in-flight aborted, unstarted failed', async () => {
    const k = await startKamal(['h1', 'h2', 'h3']);
    // targets go out in id order (host:port), so the first by id is the one in flight at the deadline
    const [hang, next, last] = k.hosts
      .map((h) => h.name)
      .sort((a, b) => (hostId(k, a) < hostId(k, b) ? -1 : 1));
    k.setBehaviour(hang!, { hang: true });
    const started = performance.now();
    const run = await runBundle('config-update', {
      inputs: kamalInputs(k, { concurrency: '1', deadline: '1.5', timeout: '30' }),
    });
    const took = performance.now() - started;
    expect(took).toBeLessThan(15_000);
    expect(run.code).toBe(1);
    expect(k.calls(hang!)).toHaveLength(1);
    expect(k.calls(next!)).toHaveLength(0);
    expect(k.calls(last!)).toHaveLength(0);
    const byId = Object.fromEntries(resultsOf(run.outputs).map((r) => [r.id, r]));
    expect(byId[hostId(k, hang!)]).toMatchObject({ outcome: 'failed', attempts: 1 });
    expect(byId[hostId(k, hang!)]?.error).toContain('cut: the deadline of 1.5 s passed after 1 attempt');
    expect(byId[hostId(k, hang!)]?.ms).toBeGreaterThanOrEqual(1400);
    expect(byId[hostId(k, next!)]).toMatchObject({
      outcome: 'failed',
      attempts: 0,
      error: 'not started: the deadline of 1.5 s passed',
    });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('Could not update 3 of 3 targets');
    expect(progressLines(run.stdout)).toHaveLength(3);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const k = await startKamal(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
    for (const h of k.hosts) k.setBehaviour(h.name, { latencyMs: 300 });
    const run = await runBundle('config-update', { inputs: kamalInputs(k, { concurrency: '2' }) });
    expect(run.code).toBe(0);
    // with 2 in flight, 6 calls of 300 ms arrive in three waves
    const arrivals = k
      .calls()
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const first = arrivals[0]!;
    const waves = arrivals.map((at) => Math.floor((at - first + 150) / 300));
    expect(waves).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('reports an unknown target before any request', async () => {
    const k = await startKamal(['h1']);
    const run = await runBundle('config-update', { inputs: kamalInputs(k, { target: 'swarm' }) });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining("Input 'target' must be one of fly, kamal")]);
    expect(k.calls()).toHaveLength(0);
  });

  it('dry-run sends nothing and names each URL', async () => {
    const k = await startKamal(['h1', 'h2']);
    const run = await runBundle('config-update', { inputs: kamalInputs(k, { 'dry-run': 'true' }) });
    expect(run.code).toBe(0);
    expect(k.calls()).toHaveLength(0);
    expect(run.stdout).toContain('POST <the URL of each target>');
    for (const h of k.hosts) expect(run.stdout).toContain(`${h.url}/update_config`);
    expectNoSecrets(run.everything);
  });

  it('removes echoed tokens and credential headers from the short error excerpt', async () => {
    const k = await startKamal(['h1']);
    k.host('h1').server.inject({
      route: 'update',
      times: Infinity,
      fault: {
        status: 403,
        body: `forbidden: key hdr-canary-secret-99 with Bearer ${AUTH_TOKEN} rejected ${'x'.repeat(500)}`,
      },
    });
    const run = await runBundle('config-update', {
      inputs: kamalInputs(k, { headers: 'X-Api-Key: hdr-canary-secret-99' }),
    });
    expect(k.host('h1').server.requests[0]?.headers['x-api-key']).toBe('hdr-canary-secret-99');
    expect(run.everything).not.toContain('hdr-canary-secret-99');
    expect(run.code).toBe(1);
    const [result] = resultsOf(run.outputs);
    expect(result?.error?.length).toBeLessThanOrEqual(130);
    expect(result?.error).toMatch(/^HTTP 403: forbidden/);
    expectNoSecrets(run.everything);
  });
});
