import { describe, expect, it } from 'vitest';
import { definedCheckCount, healthOf } from '../../src/deploy/fly-health.ts';
import {
  launchesOnUpdate,
  rolloutOrder,
  runningDigest,
  runsImage,
  selectMachines,
} from '../../src/deploy/fly-machines.ts';
import { appContainerIndex, updateBody } from '../../src/deploy/fly-update.ts';
import type { FlyMachine } from '../../src/providers/fly/machines.ts';

/** The pure Fly rules of issue 13 §4, each against what flyctl or fly-go does. */

const D = (c: string) => `sha256:${c.repeat(64)}`;

function machine(id: string, fields: Partial<FlyMachine> & { metadata?: Record<string, string> } = {}) {
  const { metadata, ...rest } = fields;
  return {
    id,
    name: id,
    state: 'started',
    region: 'ams',
    instance_id: 'v1',
    config: {
      image: 'registry.fly.io/app:deployment-1',
      metadata: metadata ?? { fly_process_group: 'app', fly_platform_version: 'v2' },
    },
    ...rest,
  } as FlyMachine;
}

describe('selectMachines (fly-go ListActive / ListFlyAppsMachines)', () => {
  it.each([
    ['a started platform machine', machine('a'), undefined, undefined],
    ['a failed machine is deployed', machine('a', { state: 'failed' }), undefined, undefined],
    ['a stopped machine is deployed', machine('a', { state: 'stopped' }), undefined, undefined],
    ['a suspending machine is deployed', machine('a', { state: 'suspending' }), undefined, undefined],
    ['destroyed', machine('a', { state: 'destroyed' }), undefined, 'destroyed'],
    ['destroying', machine('a', { state: 'destroying' }), undefined, 'destroyed'],
    [
      'a fly console machine',
      machine('a', { metadata: { fly_process_group: 'fly_app_console', fly_platform_version: 'v2' } }),
      undefined,
      'console',
    ],
    [
      'a release-command machine',
      machine('a', {
        metadata: { fly_process_group: 'fly_app_release_command', fly_platform_version: 'v2' },
      }),
      undefined,
      'release command',
    ],
    [
      'a legacy release-command machine (process_group: release_command)',
      machine('a', { metadata: { process_group: 'release_command', fly_platform_version: 'v2' } }),
      undefined,
      'release command',
    ],
    [
      'a machine made by hand (no fly_platform_version)',
      machine('a', { metadata: { fly_process_group: 'app' } }),
      undefined,
      'not a platform machine',
    ],
    [
      'a machine of another group',
      machine('a', { metadata: { fly_process_group: 'worker', fly_platform_version: 'v2' } }),
      'app',
      'other group',
    ],
    [
      'the older process_group key names the group',
      machine('a', { metadata: { process_group: 'worker', fly_platform_version: 'v2' } }),
      'worker',
      undefined,
    ],
  ] as const)('%s', (_name, m, group, reason) => {
    const selection = selectMachines([m], group);
    if (reason === undefined) {
      expect(selection.deploy.map((x) => x.id)).toEqual(['a']);
      expect(selection.excluded).toEqual([]);
    } else {
      expect(selection.deploy).toEqual([]);
      expect(selection.excluded.map((e) => e.reason)).toEqual([reason]);
    }
  });
});

describe('launchesOnUpdate (flyctl shouldSkipLaunch)', () => {
  it.each([
    ['started', true],
    ['starting', true],
    ['failed', true],
    ['stopped', false],
    ['suspended', false],
    ['created', false],
    ['stopping', false],
    ['suspending', false],
  ])('%s -> %s', (state, launches) => {
    expect(launchesOnUpdate(state)).toBe(launches);
  });
});

describe('rolloutOrder', () => {
  const list = [
    machine('s1', { state: 'stopped' }),
    machine('f1', { state: 'failed' }),
    machine('r1'),
    machine('p1', { state: 'suspended' }),
    machine('r2'),
  ];
  it.each([
    [
      'rolling keeps list order, machines that are not launched last',
      'rolling',
      ['f1', 'r1', 'r2', 's1', 'p1'],
    ],
    ['canary puts a started machine first', 'canary', ['r1', 'f1', 'r2', 's1', 'p1']],
    ['immediate', 'immediate', ['f1', 'r1', 'r2', 's1', 'p1']],
  ])('%s', (_name, strategy, expected) => {
    expect(rolloutOrder(list, strategy).map((m) => m.id)).toEqual(expected);
  });
  it('canary without any started machine takes the first that launches', () => {
    const order = rolloutOrder(
      [machine('s1', { state: 'stopped' }), machine('f1', { state: 'failed' })],
      'canary',
    );
    expect(order.map((m) => m.id)).toEqual(['f1', 's1']);
  });
});

describe('runsImage compares digests, not names', () => {
  const wanted = `ghcr.io/acme/web@${D('b')}`;
  it.each([
    ['same digest under another name: unchanged', 'registry.fly.io/app:deployment-1', D('b'), true],
    ['same name pinned, digest reported: unchanged', wanted, D('b'), true],
    ['same name pinned, no image_ref digest: the config digest counts', wanted, '', true],
    ['a tag pushed again resolves elsewhere: deployed', 'ghcr.io/acme/web:latest', D('a'), false],
    ['nothing known about the running digest: deployed', 'ghcr.io/acme/web:latest', '', false],
  ])('%s', (_name, image, digest, same) => {
    const m = machine('a', { image_ref: { digest } });
    m.config!.image = image;
    expect(runsImage(m, wanted)).toBe(same);
  });
  it('an image without a digest is never taken as running', () => {
    const m = machine('a', { image_ref: { digest: D('a') } });
    m.config!.image = 'ghcr.io/acme/web:latest';
    expect(runsImage(m, 'ghcr.io/acme/web:latest')).toBe(false);
    expect(runningDigest(m)).toBe(D('a'));
  });
});

describe('health gate (flyctl WaitForHealthchecksToPass, stricter)', () => {
  const check = (name: string, status = 'passing') => ({
    name,
    status,
    output: status === 'passing' ? '' : 'boom',
  });
  const twoAndService = {
    image: 'x',
    checks: { http: {}, tcp: {} },
    services: [{ checks: [{ type: 'http' }] }, { checks: [] }, {}],
  };
  it.each([
    ['no checks defined, started: healthy', 'started', { image: 'x' }, [], true, /defines no checks/],
    [
      'no checks defined, still starting: not yet',
      'starting',
      { image: 'x' },
      [],
      false,
      /machine is starting/,
    ],
    [
      'checks defined, empty list right after an update: not yet',
      'started',
      twoAndService,
      [],
      false,
      /no check results yet \(3 defined\)/,
    ],
    [
      'fewer results than defined, all passing: not yet (flyctl would pass)',
      'started',
      twoAndService,
      [check('http'), check('tcp')],
      false,
      /2 of 3 checks reported, 2 passing/,
    ],
    [
      'all defined checks reported and passing: healthy',
      'started',
      twoAndService,
      [check('http'), check('tcp'), check('servicecheck-00-http-8080')],
      true,
      /3\/3 checks passing/,
    ],
    [
      'one critical: not healthy, named with its output',
      'started',
      twoAndService,
      [check('http'), check('tcp', 'critical'), check('servicecheck-00-http-8080')],
      false,
      /tcp=critical \(boom\)/,
    ],
    [
      'the platform compat check is not one of ours',
      'started',
      { image: 'x', checks: { http: {} } },
      [check('bg_deployments_compat_http', 'critical'), check('http')],
      true,
      /1\/1/,
    ],
  ] as const)('%s', (_name, state, config, checks, healthy, summary) => {
    const verdict = healthOf({ state, config: config as FlyMachine['config'], checks: [...checks] });
    expect(verdict.healthy).toBe(healthy);
    expect(verdict.summary).toMatch(summary);
  });
  it.each([
    [undefined, 0],
    [{ image: 'x' }, 0],
    [{ image: 'x', checks: { a: {}, b: {} } }, 2],
    [{ image: 'x', services: [{ checks: [{}, {}] }, { checks: [{}] }] }, 3],
    [{ image: 'x', checks: { a: {} }, services: [{ checks: [{}] }, { ports: [] }] }, 2],
  ])('definedCheckCount(%j) = %i', (config, count) => {
    expect(definedCheckCount(config)).toBe(count);
  });
});

describe('updateBody (flyctl launchInputForUpdate)', () => {
  const base = machine('a');
  it.each([
    [
      'a running machine: config with the new image, its region, launched',
      base,
      { launch: true },
      { config: { ...base.config, image: 'new' }, region: 'ams' },
    ],
    [
      'a suspended machine: skip_launch',
      { ...base, state: 'suspended' },
      { launch: false },
      { config: { ...base.config, image: 'new' }, region: 'ams', skipLaunch: true },
    ],
    [
      'the minimum secrets version when known',
      base,
      { launch: true, minSecretsVersion: 7 },
      { config: { ...base.config, image: 'new' }, region: 'ams', minSecretsVersion: 7 },
    ],
  ])('%s', (_name, m, options, expected) => {
    expect(updateBody(m, 'new', options)).toEqual(expected);
  });

  it('multi-container: only the app container gets the image, and any "." container', () => {
    const m = machine('a');
    m.config = {
      image: 'old',
      containers: [
        { name: 'nginx', image: 'nginx:1' },
        { name: 'web', image: 'old', env: { A: '1' } },
        { name: 'init', image: '.' },
      ],
    };
    expect(updateBody(m, 'new', { launch: true }).config.containers).toEqual([
      { name: 'nginx', image: 'nginx:1' },
      { name: 'web', image: 'new', env: { A: '1' } },
      { name: 'init', image: 'new' },
    ]);
  });

  it.each([
    [
      'the container running the current image',
      [
        { name: 'side', image: 's' },
        { name: 'x', image: 'cur' },
      ],
      1,
    ],
    [
      'else the one named app',
      [
        { name: 'side', image: 's' },
        { name: 'app', image: 'a' },
      ],
      1,
    ],
    [
      'else the first (flyctl containerconfig/parse.go)',
      [
        { name: 'one', image: 'a' },
        { name: 'two', image: 'b' },
      ],
      0,
    ],
    ['none', [], -1],
  ])('appContainerIndex: %s', (_name, containers, index) => {
    expect(appContainerIndex(containers, 'cur')).toBe(index);
  });
});
