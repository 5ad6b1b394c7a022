import { describe, expect, it } from 'vitest';
import {
  dispositionOf,
  selectFlyTargets,
  selectKamalTargets,
  shardOf,
} from '../../src/config-update/targets.ts';
import type { FlyMachine } from '../../src/providers/fly/machines.ts';

const machine = (id: string, state = 'started', region = 'ams', group = 'app'): FlyMachine => ({
  id,
  name: id,
  state,
  region,
  instance_id: 'v1',
  config: { metadata: { fly_process_group: group } },
});
const items = (ids: string[]) => ids.map((id) => ({ target: { id } }));
const URL = 'https://smooth.fly.dev/showcase/update_config';

describe('shardOf', () => {
  it.each([
    [undefined, ['a', 'b', 'c', 'd', 'e']],
    [{ index: 1, count: 1 }, ['a', 'b', 'c', 'd', 'e']],
    [{ index: 1, count: 2 }, ['a', 'c', 'e']],
    [{ index: 2, count: 2 }, ['b', 'd']],
    [{ index: 3, count: 3 }, ['c']],
    [{ index: 5, count: 6 }, ['e']],
    [{ index: 6, count: 6 }, []],
  ])('shard %o of e,c,a,d,b is %o', (shard, expected) => {
    expect(shardOf(items(['e', 'c', 'a', 'd', 'b']), shard).map((i) => i.target.id)).toEqual(expected);
  });

  it('covers every target exactly once across all shards, for many sizes', () => {
    for (const total of [0, 1, 2, 7, 10, 31]) {
      for (const count of [1, 2, 3, 4, 7]) {
        const ids = Array.from({ length: total }, (_, i) => `m${(i * 7919) % 1000}`);
        const seen = [];
        for (let index = 1; index <= count; index++)
          seen.push(...shardOf(items(ids), { index, count }).map((i) => i.target.id));
        expect(seen.sort()).toEqual([...ids].sort());
      }
    }
  });

  it('sorts by code point, the same on every runner', () => {
    expect(shardOf(items(['b', 'B', 'a10', 'a9']), undefined).map((i) => i.target.id)).toEqual([
      'B',
      'a10',
      'a9',
      'b',
    ]);
  });
});

describe('dispositionOf', () => {
  it.each([
    ['started', 'skip', 'update'],
    ['started', 'wake', 'update'],
    ['stopped', 'skip', 'skip'],
    ['stopped', 'wake', 'wake'],
    ['stopped', 'fail', 'fail'],
    ['suspended', 'wake', 'wake'],
    ['starting', 'fail', 'fail'],
    ['created', 'skip', 'skip'],
  ] as const)('%s with stopped-machines %s → %s', (state, policy, expected) => {
    expect(dispositionOf(state, policy)).toBe(expected);
  });
});

describe('selectFlyTargets', () => {
  const machines = [
    machine('m3', 'started', 'fra'),
    machine('m1', 'started', 'ams'),
    machine('m2', 'stopped', 'ams'),
    machine('w1', 'started', 'ams', 'worker'),
    machine('gone', 'destroying', 'ams'),
    machine('m4', 'started', 'IAD'),
  ];
  const base = { regions: [], processGroup: undefined, stoppedMachines: 'skip' as const };

  it.each([
    [{}, ['m1:update', 'm2:skip', 'm3:update', 'm4:update', 'w1:update']],
    [{ regions: ['ams'] }, ['m1:update', 'm2:skip', 'w1:update']],
    [{ regions: ['iad', 'fra'] }, ['m3:update', 'm4:update']],
    [{ processGroup: 'worker' }, ['w1:update']],
    [{ processGroup: 'app', regions: ['ams'], stoppedMachines: 'wake' as const }, ['m1:update', 'm2:wake']],
    [{ stoppedMachines: 'fail' as const, regions: ['ams'] }, ['m1:update', 'm2:fail', 'w1:update']],
    [{ processGroup: 'none' }, []],
  ])('filters %o', (filters, expected) => {
    const selection = selectFlyTargets(machines, URL, { ...base, ...filters });
    expect(selection.listed).toBe(6);
    expect(selection.selected.map((s) => `${s.target.id}:${s.disposition}`)).toEqual(expected);
  });

  it('addresses each machine by id at the app URL and explains skips', () => {
    const [m1, m2] = selectFlyTargets(machines, URL, { ...base, regions: ['ams'] }).selected;
    expect(m1?.target).toEqual({ id: 'm1', region: 'ams', url: URL, machineId: 'm1', state: 'started' });
    expect(m2?.reason).toBe('machine is stopped');
  });
});

describe('selectKamalTargets', () => {
  it('names hosts by host, and by host and path when a host is listed twice', () => {
    const selected = selectKamalTargets([
      'https://b.example/update',
      'https://a.example:8443/update',
      'https://c.example/one',
      'https://c.example/two',
    ]);
    expect(selected.map((s) => [s.target.id, s.target.url, s.target.machineId, s.disposition])).toEqual([
      ['a.example:8443', 'https://a.example:8443/update', undefined, 'update'],
      ['b.example', 'https://b.example/update', undefined, 'update'],
      ['c.example/one', 'https://c.example/one', undefined, 'update'],
      ['c.example/two', 'https://c.example/two', undefined, 'update'],
    ]);
  });

  it('names by the whole URL when host, path and query repeat (http and https of one host)', () => {
    const selected = selectKamalTargets(['http://h.example/u', 'https://h.example/u', 'https://h.example/v']);
    expect(selected.map((s) => s.target.id)).toEqual([
      'h.example/v',
      'http://h.example/u',
      'https://h.example/u',
    ]);
  });
});
