import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proxiedRunArgs, reachOf, words } from '../../src/deploy/ssh/publish.ts';

/** How a container behind `proxy: nginx` is reached on its own host port, from `run-args`. */

describe('reachOf and proxiedRunArgs', () => {
  it.each([
    ['--network host', '--env PORT=21000 --network host'],
    ['--net=host -e A=1', '--env PORT=21000 --net=host -e A=1'],
    ['--network=host', '--env PORT=21000 --network=host'],
    ['-p 3000', '--publish 127.0.0.1:21000:3000'],
    ['-p 3000:3000 --restart unless-stopped', '--publish 127.0.0.1:21000:3000 --restart unless-stopped'],
    ['-e X=1 --publish 0.0.0.0:8080:3000/tcp -v /d:/d', '-e X=1 --publish 127.0.0.1:21000:3000/tcp -v /d:/d'],
    ['--publish=8080:80', '--publish 127.0.0.1:21000:80'],
    ['-p8080:80', '--publish 127.0.0.1:21000:80'],
    ['--network shop -p [::1]:8080:80', '--network shop --publish 127.0.0.1:21000:80'],
  ])('%s -> %s', (runArgs, expected) => {
    const reach = reachOf(runArgs);
    if ('error' in reach) throw new Error(reach.error);
    expect(proxiedRunArgs(runArgs, reach, 21000)).toBe(expected);
  });

  it.each([
    ['', 'must publish the app port with one -p'],
    ['--network shop', 'must publish the app port with one -p'],
    ['-P', 'must not use -P/--publish-all'],
    ['--publish-all --network shop', 'must not use -P/--publish-all'],
    ['-p 3000 -p 9090', 'exactly one port'],
    ['--network host -p 3000', 'must not combine --network host with -p'],
    ['-p 8000-8010:8000-8010', 'one tcp port'],
    ['-p 53:53/udp', 'one tcp port'],
    ['-p', 'one tcp port'],
  ])('refuses %j', (runArgs, error) => {
    const reach = reachOf(runArgs);
    expect('error' in reach && reach.error).toContain(error);
  });

  const word = fc.stringMatching(/^[A-Za-z0-9=/._:-]{1,12}$/).filter((w) => !/^-(p|P|-publish|-net)/.test(w));

  it('keeps every other word of run-args, in order, and publishes exactly one loopback port', () => {
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 6 }),
        fc.array(word, { maxLength: 6 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        fc.integer({ min: 20000, max: 29999 }),
        (before, after, container, host, port) => {
          const value = host === undefined ? `${container}` : `${host}:${container}`;
          const runArgs = [...before, '-p', value, ...after].join(' ');
          const reach = reachOf(runArgs);
          if ('error' in reach) throw new Error(reach.error);
          const out = words(proxiedRunArgs(runArgs, reach, port));
          expect(out).toEqual([...before, '--publish', `127.0.0.1:${port}:${container}`, ...after]);
        },
      ),
    );
  });
});
