import { describe, expect, it } from 'vitest';
import { releaseBefore } from '../../src/deploy/heroku.ts';
import { deployTagOf, digestOf } from '../../src/deploy/image.ts';
import { batchSizes, batchWidth, describeFlyRollout, splitBatches } from '../../src/deploy/plan.ts';
import { GANTT_BARS, PLAN_LINES, renderSummary, UNIT_ROWS } from '../../src/deploy/report.ts';
import { type HostLock, LOCK_ROWS, lockTable } from '../../src/deploy/ssh/release-lock.ts';
import { registryBaseUrl } from '../../src/providers/registry/distribution.ts';
import { summaryTables } from '../helpers/summary-tables.ts';

describe('batchSizes', () => {
  it.each([
    [30, 'rolling', { fraction: 0.33 }, [1, 10, 10, 9]],
    [10, 'rolling', { fraction: 0.33 }, [1, 4, 4, 1]],
    [3, 'rolling', { fraction: 0.33 }, [1, 1, 1]],
    [5, 'rolling', { count: 2 }, [1, 2, 2]],
    [5, 'rolling', { count: 10 }, [1, 4]],
    [1, 'rolling', { fraction: 0.5 }, [1]],
    [0, 'rolling', { fraction: 0.5 }, []],
    // flyctl's canary: one machine, then a rolling update of the rest.
    [6, 'canary', { fraction: 0.33 }, [1, 2, 2, 1]],
    [100, 'canary', { fraction: 0.2 }, [1, 20, 20, 20, 20, 19]],
    [1, 'canary', { fraction: 0.33 }, [1]],
    [6, 'immediate', { count: 1 }, [6]],
  ] as const)('%i machines, %s, %j -> %j', (total, strategy, max, expected) => {
    expect(batchSizes(total, strategy, max)).toEqual(expected);
    expect(batchSizes(total, strategy, max).reduce((a, b) => a + b, 0)).toBe(total);
  });

  it.each([
    [30, { fraction: 0.33 }, 10],
    [3, { fraction: 0.33 }, 1],
    [100, { fraction: 0.25 }, 25],
    [4, { count: 9 }, 4],
  ] as const)('batchWidth(%i, %j) = %i', (total, max, width) => {
    expect(batchWidth(total, max)).toBe(width);
  });

  it('splits items in order', () => {
    expect(splitBatches(['a', 'b', 'c', 'd'], [1, 2, 1])).toEqual([['a'], ['b', 'c'], ['d']]);
  });
});

describe('describeFlyRollout', () => {
  it('names every mutating request, batch by batch', () => {
    const lines = describeFlyRollout({
      app: 'web',
      image: 'ghcr.io/a/b@sha256:1',
      strategy: 'rolling',
      batches: [[{ id: 'm1', where: 'ams', from: 'old' }], [{ id: 'm2', from: 'old' }]],
      unchanged: [{ id: 'm3', from: 'ghcr.io/a/b@sha256:1' }],
      healthWait: true,
    });
    expect(lines.map(String)).toEqual([
      'fly app web: 2 machine(s) to ghcr.io/a/b@sha256:1, rolling, 2 batch(es)',
      'lease 2 machine(s): POST /apps/web/machines/{id}/lease',
      'batch 1: update m1, wait for started and passing checks',
      '  POST /apps/web/machines/m1 (ams): config.image old -> ghcr.io/a/b@sha256:1',
      'batch 2: update m2, wait for started and passing checks',
      '  POST /apps/web/machines/m2: config.image old -> ghcr.io/a/b@sha256:1',
      'unchanged: m3 already runs ghcr.io/a/b@sha256:1',
      'release 2 lease(s): DELETE /apps/web/machines/{id}/lease',
    ]);
  });
});

describe('describeFlyRollout with machines that are not started', () => {
  it.each([
    [
      'a batch of one suspended machine promises no health wait',
      [{ id: 'm9', from: 'old', notStarted: 'suspended' }],
      [
        'batch 1: update m9, no health wait',
        '  POST /apps/web/machines/m9: config.image old -> new, skip_launch: suspended, updated without starting, not health-checked',
      ],
    ],
    [
      'a mixed batch waits only for the machines it starts',
      [
        { id: 'm1', from: 'old' },
        { id: 'm2', from: 'old', notStarted: 'stopping' },
      ],
      [
        'batch 1: update m1, m2, wait for m1 to start and passing checks',
        '  POST /apps/web/machines/m1: config.image old -> new',
        '  POST /apps/web/machines/m2: config.image old -> new, skip_launch: stopping, updated without starting, not health-checked',
      ],
    ],
  ])('%s', (_name, batch, expected) => {
    const lines = describeFlyRollout({
      app: 'web',
      image: 'new',
      strategy: 'rolling',
      batches: [batch],
      unchanged: [],
      healthWait: true,
    });
    expect(lines.slice(2, 2 + expected.length).map(String)).toEqual(expected);
  });
});

describe('image helpers', () => {
  it('derives the deploy tag from the first 8 hex digits of the id', () => {
    expect(deployTagOf('4bd0ed9b-1234-4abc-8def-0123456789ab')).toBe('deploy_4bd0ed9b');
    expect(deployTagOf('4bd0-ed9b-1234')).toBe('deploy_4bd0ed9b');
  });
  it('reads the digest of a pinned reference', () => {
    expect(digestOf(`r/a@sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
    expect(digestOf('r/a:1')).toBeUndefined();
  });
  it.each([
    ['docker.io', 'https://registry-1.docker.io'],
    ['index.docker.io', 'https://registry-1.docker.io'],
    ['ghcr.io', 'https://ghcr.io'],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['localhost:5000', 'http://localhost:5000'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['registry.example:5000', 'https://registry.example:5000'],
  ])('registry %s is spoken to at %s', (registry, url) => {
    expect(registryBaseUrl(registry)).toBe(url);
  });
});

describe('releaseBefore', () => {
  const r = (version: number, status = 'succeeded', slug: string | undefined = 's', eligible = true) => ({
    id: `id${version}`,
    version,
    status,
    slugId: slug,
    current: false,
    description: '',
    eligibleForRollback: eligible && status === 'succeeded',
  });
  it.each([
    ['a failed release is skipped', [r(5), r(4, 'failed'), r(3)], 3],
    ['a release without a slug is skipped', [r(5), r(4, 'succeeded', ''), r(3)], 3],
    [
      'a succeeded release Heroku marks ineligible is skipped',
      [r(5), r(4, 'succeeded', 's', false), r(3)],
      3,
    ],
    ['nothing older: none', [r(1)], undefined],
  ] as const)(
    'takes the newest eligible release with a slug older than the current: %s',
    (_t, list, version) => {
      expect(releaseBefore([...list], list[0])?.version).toBe(version);
    },
  );
});

describe('renderSummary', () => {
  it('shows old -> new per unit, health, time and a gantt of the batches', () => {
    const md = renderSummary({
      operation: 'deploy',
      target: 'fly',
      environment: 'production',
      deployId: 'id',
      deployTag: 'deploy_12345678',
      image: 'new',
      previousImage: 'old',
      deploymentId: 7,
      dryRun: false,
      outcome: {
        status: 'success',
        plan: ['p'],
        units: [
          {
            id: 'm1',
            outcome: 'updated',
            batch: 1,
            startedMs: 0,
            endedMs: 1500,
            previousImage: 'old',
            newImage: 'new',
            health: 'passing',
          },
          {
            id: 'm2',
            outcome: 'updated',
            batch: 2,
            startedMs: 1500,
            endedMs: 3000,
            previousImage: 'old',
            newImage: 'new',
            health: 'passing',
          },
        ],
      },
    });
    const [facts, units] = summaryTables(md);
    expect(facts).toContainEqual(['deploy tag', 'deploy_12345678']);
    expect(units?.[0]).toEqual([
      'unit',
      'where',
      'batch',
      'outcome',
      'old image',
      'new image',
      'health',
      'time',
    ]);
    expect(units?.[1]).toEqual(['m1', '', '1', 'updated', 'old', 'new', 'passing', '1.5 s']);
    expect(md).toContain('```mermaid');
    expect(md).toContain('section batch 2');
    expect(md).toContain('m2 :done, t1, 1500, 3000');
  });

  it.each([
    [UNIT_ROWS, 0],
    [UNIT_ROWS + 1, 3],
    [10_000, 25],
  ])('%i units over ssh, %i failed: the summary stays far under 1 MiB, failures first', (count, failures) => {
    const units = Array.from({ length: count }, (_, i) => ({
      id: `deploy@web-${i}.fleet.example.com`,
      where: `web-${i}.fleet.example.com:22`,
      previousImage: 'ghcr.io/acme/smooth:deploy_0123abcd',
      newImage: 'ghcr.io/acme/smooth:deploy_4567ef01',
      // The failures are the last units: listed first all the same.
      outcome: i >= count - failures ? ('failed' as const) : ('updated' as const),
      ...(i >= count - failures ? { error: 'health check failed' } : { health: 'passing' as const }),
      batch: Math.floor(i / 8) + 1,
      startedMs: i * 10,
      endedMs: i * 10 + 5000,
    }));
    const plan = units.flatMap((u) => [
      `${u.where}: docker pull ${u.newImage}`,
      `${u.where}: run smooth_app`,
    ]);
    const md = renderSummary({
      operation: 'deploy',
      target: 'ssh',
      environment: 'production',
      deployId: 'id',
      deployTag: 'deploy_4567ef01',
      image: 'ghcr.io/acme/smooth:deploy_4567ef01',
      previousImage: undefined,
      deploymentId: 7,
      dryRun: false,
      outcome: { status: failures > 0 ? 'failed' : 'success', plan, units },
    });
    expect(Buffer.byteLength(md)).toBeLessThan(256 * 1024);
    const rows = summaryTables(md)[1]!.slice(1);
    expect(rows).toHaveLength(Math.min(count, UNIT_ROWS));
    expect(rows.slice(0, failures).map((r) => r[3])).toEqual(
      Array(failures).fill('failed: health check failed'),
    );
    expect(rows.slice(failures).every((r) => r[3] === 'updated')).toBe(true);
    if (count > UNIT_ROWS) {
      expect(rows[failures]![0]).toBe('deploy@web-0.fleet.example.com');
      expect(md).toContain(
        `_${count} units: ${count - failures} updated, ${failures} failed. The table shows ${UNIT_ROWS} of them, those failed, rolled back or skipped first; every unit is in the operations log (output \`log-file\`, step \`unit\`)._`,
      );
    } else expect(md).not.toContain('The table shows');
    expect(md).not.toContain('```mermaid');
    expect(md).toContain(`_No rollout chart: ${count} units are more than its ${GANTT_BARS} readable bars;`);
    const planLines = md
      .slice(md.indexOf('<summary>plan</summary>'))
      .split('\n')
      .filter((l) => l.includes(': '));
    expect(planLines).toHaveLength(Math.min(PLAN_LINES, plan.length));
    if (plan.length > PLAN_LINES) expect(md).toContain(`… ${plan.length - PLAN_LINES} more lines`);
  });

  it('shows the environment in the heading as text, never markup', () => {
    const md = renderSummary({
      operation: 'deploy',
      target: 'heroku',
      environment: 'prod <!-- & more',
      deployId: 'id',
      deployTag: 'deploy_12345678',
      image: undefined,
      previousImage: undefined,
      deploymentId: undefined,
      dryRun: false,
      outcome: { status: 'success', plan: [], units: [] },
    });
    expect(md.split('\n')[0]).toBe('## deploy to heroku (prod &lt;!-- &amp; more): success');
  });
});

describe('release-lock summary table', () => {
  const host = (i: number, result: HostLock['result']): HostLock => ({
    host: `web-${i}.fleet.example.com:22`,
    heldBy: result === 'no lock' ? undefined : `acme/web run ${i}.1 job deploy, since 2026-11-30 (3 h ago)`,
    result,
    ...(result === 'failed' ? { error: 'ssh could not connect: Connection timed out' } : {}),
  });
  it.each([
    [LOCK_ROWS, 0, 0],
    [LOCK_ROWS + 1, 2, 1],
    [10_000, 30, 5],
  ])(
    '%i hosts, %i released, %i failed: at most LOCK_ROWS rows, those failed then released first',
    (count, released, failures) => {
      const results = Array.from({ length: count }, (_, i) =>
        host(i, i >= count - failures ? 'failed' : i >= count - failures - released ? 'released' : 'no lock'),
      );
      const md = lockTable(results).join('\n');
      expect(Buffer.byteLength(md)).toBeLessThan(128 * 1024);
      const rows = summaryTables(md)[0]!.slice(1);
      expect(rows).toHaveLength(Math.min(count, LOCK_ROWS));
      if (count > LOCK_ROWS) {
        expect(rows.slice(0, failures + released).map((r) => r[2])).toEqual([
          ...Array(failures).fill('ssh could not connect: Connection timed out'),
          ...Array(released).fill('released'),
        ]);
        expect(md).toContain(
          `_${count} hosts: ${count - released - failures} no lock, ${released} released${failures ? `, ${failures} failed` : ''}. The table shows ${LOCK_ROWS} of them, those failed or released first; every host has its line in the step's log._`,
        );
      } else expect(md).not.toContain('The table shows');
    },
  );
});
