import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proxiedRunArgs, publishedPort, reachOf, words } from '../../src/deploy/ssh/publish.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * How a container behind `proxy: nginx` is reached on its own host port, from `run-args`: `-p`
 * values read as Docker reads them (docker/go-connections nat/nat.go `ParsePortSpec`, docker/cli
 * `convertToStandardNotation`), one-letter flags grouped as pflag groups them.
 */

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
    ['-p ::1:8080:80', '--publish 127.0.0.1:21000:80'],
    ['-p 127.0.0.1::80', '--publish 127.0.0.1:21000:80'],
    ['-p 80/tcp', '--publish 127.0.0.1:21000:80/tcp'],
    ['-p 80/TCP', '--publish 127.0.0.1:21000:80/tcp'],
    ['-p 8000-8010:80', '--publish 127.0.0.1:21000:80'],
    ['-itp 80 --rm', '-it --publish 127.0.0.1:21000:80 --rm'],
    ['-itp80', '-it --publish 127.0.0.1:21000:80'],
    ['-dp=8080:80', '-d --publish 127.0.0.1:21000:80'],
    ['-p=80', '--publish 127.0.0.1:21000:80'],
    ['--publish=80', '--publish 127.0.0.1:21000:80'],
    ['--publish target=80,published=8080', '--publish 127.0.0.1:21000:80/tcp'],
    ['-e P=-p -p 80', '-e P=-p --publish 127.0.0.1:21000:80'],
    ['-ep 80 -p 3000', '-ep 80 --publish 127.0.0.1:21000:3000'],
    ['--network=host -tePORTS=1', '--env PORT=21000 --network=host -tePORTS=1'],
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
    ['-p 8000-8010:8000-8010', 'got -p 8000-8010:8000-8010 (container port range 8000-8010'],
    ['-p 53:53/udp', 'got -p 53:53/udp (nginx forwards tcp, not udp)'],
    ['-p 80/UDP', 'nginx forwards tcp, not udp'],
    ['-p 80/sctp', 'nginx forwards tcp, not sctp'],
    ['-p 80/http', 'unknown protocol http'],
    ['-p', 'got -p  (no container port)'],
    ['-p 65536', 'got -p 65536 (container port 65536 is not 1-65535)'],
    ['-p 8080:99999', 'container port 99999 is not 1-65535'],
    ['-p 65536:80', 'host port 65536 is not 0-65535'],
    ['-p 0', 'container port 0'],
    ['-p 8080:', 'no container port'],
    ['-p [::1:8080:80', '[::1 is not an IP address'],
    ['-p 999.1.1.1:8080:80', '999.1.1.1 is not an IP address'],
    ['-p localhost:8080:80', 'localhost is not an IP address'],
    ['--publish target=80,mode', 'mode is not name=value'],
    ['-itP', 'must not use -P/--publish-all'],
    ['-itp 80 -p 81', 'exactly one port'],
    ['--network host -ePORT=1', 'must not set PORT'],
    ['--network host -tePORT=1', 'must not set PORT'],
  ])('refuses %j', (runArgs, error) => {
    const reach = reachOf(runArgs);
    expect('error' in reach && reach.error).toContain(error);
  });

  // Words that are not flags of interest: values, and flags that take no value.
  const word = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9=/._:][A-Za-z0-9=/._:-]{0,11}$/),
    fc.constantFrom('--rm', '-d', '-it', '--init', '--restart=always', '--name=web', '-e=A=1'),
  );

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

  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  const ip = fc.oneof(
    ipv4,
    ipv6.map((a) => `[${a}]`),
    ipv6.filter((a) => !a.includes('.')),
  );
  const protocol = fc.constantFrom('', '/tcp', '/TCP', '/Tcp');

  it('reads every well-formed -p value as Docker does: the last part is the container port', () => {
    fc.assert(
      fc.property(
        fc.option(ip, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.integer({ min: 1, max: 65535 }),
        protocol,
        (address, host, container, proto) => {
          const value = [
            ...(address !== undefined ? [address] : []),
            ...(address !== undefined || host !== undefined ? [host ?? ''] : []),
            `${container}${proto}`,
          ].join(':');
          expect(publishedPort(value)).toEqual({ containerPort: `${container}${proto ? '/tcp' : ''}` });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a port above 65535 on either side, naming the value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 65536, max: 10_000_000 }),
        fc.integer({ min: 1, max: 65535 }),
        (big, ok) => {
          for (const value of [`${big}`, `${ok}:${big}`, `${big}:${ok}`, `127.0.0.1:${big}:${ok}`]) {
            const reach = reachOf(`-p ${value}`);
            expect('error' in reach && reach.error).toContain(`got -p ${value} (`);
          }
        },
      ),
    );
  });

  it('never throws on any -p value: a container port of 1-65535, or an error naming the value', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-fA-F:.[\]/=,a-z-]{0,24}$/), (value) => {
        const read = publishedPort(value);
        if ('error' in read) expect(read.error).toContain(`got -p ${value} (`);
        else expect(Number(read.containerPort.replace('/tcp', ''))).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('run-args refused through the bundle', () => {
  it.each([
    ['-p 65536', 'got -p 65536 (container port 65536 is not 1-65535)'],
    ['-itp 80/udp', 'got -p 80/udp (nginx forwards tcp, not udp)'],
  ])('%s: one error naming run-args', async (runArgs, why) => {
    const run = await runBundle('deploy', {
      inputs: {
        target: 'ssh',
        hosts: 'deploy@127.0.0.1:9',
        service: 'web',
        image: '127.0.0.1:9/shop/web:v1',
        proxy: 'nginx',
        'health-path': '/up',
        'run-args': runArgs,
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('run-args');
    expect(run.errors[0]).toContain(why);
  });
});
