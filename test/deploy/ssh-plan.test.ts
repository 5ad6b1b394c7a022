import { describe, expect, it } from 'vitest';
import { createDigitalOceanFake } from '../../sandbox/fakes/digitalocean.ts';
import { StepError } from '../../src/core/errors.ts';
import * as cmd from '../../src/deploy/ssh/commands.ts';
import { fromDroplets, fromHostsInput } from '../../src/deploy/ssh/hosts.ts';
import {
  acquireCommand,
  describeOwner,
  ownerLine,
  parseAcquire,
  parseOwnerLine,
  parseRelease,
  releaseCommand,
} from '../../src/deploy/ssh/lock.ts';
import { describeHostPlan, planHost, planPrune } from '../../src/deploy/ssh/plan.ts';
import { parseHeldLocks } from '../../src/deploy/ssh/release.ts';
import { createDigitalOceanClient } from '../../src/providers/digitalocean/client.ts';
import { listDropletsByTag, nextPage } from '../../src/providers/digitalocean/droplets.ts';

const c = (
  name: string,
  deployTag: string,
  state: string,
  createdAt: string,
  image = `img:${deployTag}`,
) => ({
  id: name,
  name,
  deployTag,
  image,
  state,
  createdAt,
});

describe('remote commands (exact strings, as Kamal tests its commands)', () => {
  it.each([
    ['quote', cmd.shellQuote("it's"), `'it'\\''s'`],
    ['name', cmd.containerName('web', 'deploy_1a2b3c4d'), 'web-deploy_1a2b3c4d'],
    ['odd tag', cmd.containerName('web', 'ghcr.io/a:b'), 'web-ghcr.io-a-b'],
    ['pull', cmd.pull('r/a@sha256:ab'), `docker pull 'r/a@sha256:ab'`],
    ['start', cmd.start('web-x'), `docker start 'web-x'`],
    ['stop', cmd.stop('web-x'), `docker stop 'web-x'`],
    ['remove', cmd.remove('web-x'), `docker rm --force 'web-x'`],
    [
      'create',
      cmd.create({
        name: 'web-deploy_1',
        image: 'r/a@sha256:ab',
        service: 'web',
        deployTag: 'deploy_1',
        deployId: 'id-1',
        runArgs: ' -p 3000:3000 --env-file /etc/app.env ',
      }),
      `docker create --name 'web-deploy_1' --label 'ops-actions.service=web' --label 'ops-actions.deploy=deploy_1' --label 'ops-actions.image=r/a@sha256:ab' --label 'ops-actions.deploy-id=id-1' -p 3000:3000 --env-file /etc/app.env 'r/a@sha256:ab'`,
    ],
  ])('%s', (_, actual, expected) => expect(actual).toBe(expected));

  it('logs in to a throwaway DOCKER_CONFIG with the password on stdin, never in argv', () => {
    const text = cmd.pull('127.0.0.1:5000/a@sha256:ab', { server: '127.0.0.1:5000', username: 'bot' });
    expect(text).toBe(
      `set -e; cfg=$(mktemp -d); trap 'rm -rf "$cfg"' EXIT; DOCKER_CONFIG="$cfg" docker login --username 'bot' --password-stdin '127.0.0.1:5000' >/dev/null; DOCKER_CONFIG="$cfg" docker pull '127.0.0.1:5000/a@sha256:ab'`,
    );
  });

  it('parses only its own rows of docker ps, newest first, image from our label', () => {
    const out = [
      'Welcome to the host!',
      'ops-actions-container\tid1\tweb-deploy_1\tdeploy_1\tr/a@sha256:1\texited\t2025-01-01 10:00:00 +0000 UTC\tr/a@sha256:1',
      'ops-actions-container\tid2\tweb-deploy_2\tdeploy_2\t\trunning\t2025-01-02 10:00:00 +0000 UTC\tsha256:fallback',
    ].join('\n');
    expect(cmd.parseContainers(out)).toEqual(
      [
        c('web-deploy_2', 'deploy_2', 'running', '2025-01-02 10:00:00 +0000 UTC', 'sha256:fallback'),
        c('web-deploy_1', 'deploy_1', 'exited', '2025-01-01 10:00:00 +0000 UTC', 'r/a@sha256:1'),
      ].map((r, i) => ({ ...r, id: `id${2 - i}` })),
    );
  });
});

describe('planHost', () => {
  const input = { service: 'web', deployTag: 'deploy_3', image: 'r/a@sha256:3', healthCmd: 'curl -f x' };
  const running2 = c('web-deploy_2', 'deploy_2', 'running', '2');
  const old1 = c('web-deploy_1', 'deploy_1', 'exited', '1');

  it.each([
    [
      'first deploy: pull, create, start, health',
      input,
      [],
      ['pull', 'create', 'start', 'health'],
      { reuse: false, unchanged: false, previousImage: undefined },
    ],
    [
      'next deploy: the running one is stopped after create',
      input,
      [running2, old1],
      ['pull', 'create', 'stop', 'start', 'health'],
      { reuse: false, previousImage: 'img:deploy_2' },
    ],
    [
      'rollback to a kept container: no pull, no create',
      { ...input, deployTag: 'deploy_1' },
      [running2, old1],
      ['stop', 'start', 'health'],
      { reuse: true, target: 'web-deploy_1' },
    ],
    [
      'already running this version: nothing',
      { ...input, deployTag: 'deploy_2' },
      [running2, old1],
      [],
      { unchanged: true },
    ],
  ])('%s', (_, planInput, containers, kinds, expected) => {
    const plan = planHost(planInput, containers);
    expect(plan.steps.map((s) => s.kind)).toEqual(kinds);
    expect(plan).toMatchObject(expected);
  });

  it('refuses a rollback with neither a kept container nor an image', () => {
    expect(() => planHost({ ...input, image: undefined }, [running2])).toThrow(
      /no kept container of deploy_3/,
    );
  });

  it.each([
    [1, ['web-deploy_2', 'web-deploy_1']],
    [2, ['web-deploy_1']],
    [3, []],
  ])('keep %i prunes %j', (keep, removed) => {
    expect(
      planPrune(
        [running2, old1].map((x) => ({ ...x })),
        'web-deploy_3',
        keep,
      ).map((x) => x.name),
    ).toEqual(removed);
  });

  it('describes a plan for dry-run', () => {
    const plan = planHost(input, [running2]);
    expect(describeHostPlan('root@h:22', plan, [old1]).map(String)).toEqual([
      'root@h:22: docker pull r/a@sha256:3',
      'root@h:22: docker create web-deploy_3 from r/a@sha256:3',
      'root@h:22: docker stop web-deploy_2',
      'root@h:22: docker start web-deploy_3',
      'root@h:22: run health-cmd until it passes: curl -f x',
      'root@h:22: docker rm web-deploy_1 (beyond keep)',
    ]);
  });
});

describe('planHost behind nginx (proxy: nginx)', () => {
  const proxy = { healthPath: '/up', drainMs: 30_000 };
  const input = {
    service: 'web',
    deployTag: 'deploy_3',
    image: 'r/a@sha256:3',
    healthCmd: undefined,
    proxy,
  };
  const running2 = { ...c('web-deploy_2', 'deploy_2', 'running', '2'), port: 21002 };
  const old1 = { ...c('web-deploy_1', 'deploy_1', 'exited', '1'), port: 21001 };

  it.each([
    [
      'deploy: starts beside the old one, switches, drains, then stops it',
      input,
      [running2, old1],
      ['pull', 'port', 'create', 'start', 'health', 'switch', 'drain', 'stop'],
      { reuse: false, target: 'web-deploy_3' },
    ],
    [
      'first deploy: nothing to drain or stop',
      input,
      [],
      ['pull', 'port', 'create', 'start', 'health', 'switch'],
      { reuse: false, previous: [] },
    ],
    [
      'rollback to a kept container: its own port, no pull',
      { ...input, deployTag: 'deploy_1' },
      [running2, old1],
      ['start', 'health', 'switch', 'drain', 'stop'],
      { reuse: true, target: 'web-deploy_1' },
    ],
  ])('%s', (_, planInput, containers, kinds, expected) => {
    const plan = planHost(planInput, containers);
    expect(plan.steps.map((s) => s.kind)).toEqual(kinds);
    expect(plan).toMatchObject(expected);
    // Nothing running stops before the switch.
    const kindsSeen = plan.steps.map((s) => s.kind);
    if (kindsSeen.includes('stop'))
      expect(kindsSeen.indexOf('stop')).toBeGreaterThan(kindsSeen.indexOf('switch'));
  });

  it('switches from the old port to the kept container port on rollback', () => {
    const plan = planHost({ ...input, deployTag: 'deploy_1' }, [running2, old1]);
    expect(plan.steps.find((s) => s.kind === 'switch')).toEqual({
      kind: 'switch',
      service: 'web',
      name: 'web-deploy_1',
      port: 21001,
      from: 21002,
    });
  });

  it('refuses a kept container created without its own port', () => {
    expect(() =>
      planHost({ ...input, deployTag: 'deploy_1' }, [running2, c('web-deploy_1', 'deploy_1', 'exited', '1')]),
    ).toThrow(/not created behind the proxy/);
  });

  it.each([
    [undefined, 'choose a free host port for the new container (given to it as PORT)'],
    ['3000', 'choose a free host port for the new container (published as -p 127.0.0.1:<port>:3000)'],
  ])('dry-run shows the upstream change (publish %s)', (publish, portLine) => {
    const plan = planHost({ ...input, proxy: { ...proxy, publish } }, [running2]);
    expect(describeHostPlan('root@h:22', plan, []).map(String)).toEqual([
      'root@h:22: docker pull r/a@sha256:3',
      `root@h:22: ${portLine}`,
      'root@h:22: docker create web-deploy_3 from r/a@sha256:3',
      'root@h:22: docker start web-deploy_3',
      "root@h:22: GET /up on web-deploy_3's own port until it passes",
      'root@h:22: nginx upstream web_app in $HOME/.ops-actions/nginx/web.conf: server 127.0.0.1:21002 -> the new port (web-deploy_3); nginx -t, then nginx -s reload',
      'root@h:22: wait 30s for the old container to drain',
      'root@h:22: docker stop web-deploy_2',
    ]);
  });
});

describe('nginx commands', () => {
  it('writes the upstream file the operator includes', () => {
    expect(cmd.upstreamConfig('shop.api', 21005)).toBe(
      [
        '# Written by ops-actions action-deploy (proxy: nginx); replaced on every deploy.',
        'upstream shop.api_app {',
        '    server 127.0.0.1:21005;',
        '    keepalive 16;',
        '}',
      ].join('\n'),
    );
    expect(cmd.upstreamFile('shop.api')).toBe('$HOME/.ops-actions/nginx/shop.api.conf');
  });

  // What the script does when nginx -t refuses, the reload fails or a signal cuts it: nginx-switch.test.ts.
  it('checks with nginx -t before the graceful reload', () => {
    const s = cmd.switchUpstream('web', 21005);
    expect(s.indexOf('$n -t')).toBeLessThan(s.indexOf('$n -s reload'));
    expect(s).toContain(`n=\${OPS_ACTIONS_NGINX:-nginx}`);
  });

  it.each([
    [21005, 'curl -f x', undefined, '(PORT=21005; export PORT; curl -f x)'],
    [21005, undefined, '/up', "curl -fsS -o /dev/null --max-time 5 'http://127.0.0.1:21005/up'"],
    [
      21005,
      'true',
      '/up',
      "(PORT=21005; export PORT; true) && curl -fsS -o /dev/null --max-time 5 'http://127.0.0.1:21005/up'",
    ],
  ])('health on port %i with cmd %s and path %s', (port, healthCmd, path, expected) => {
    expect(cmd.proxiedHealth(port, healthCmd, path)).toBe(expected);
  });

  it('reads the picked port and the container port label', () => {
    expect(cmd.parsePort('motd\nport 23456\n')).toBe(23456);
    expect(cmd.parsePort('nothing')).toBeUndefined();
    expect(
      cmd.create({
        name: 'n',
        image: 'i',
        service: 's',
        deployTag: 'd',
        deployId: 'x',
        runArgs: '--env PORT=20001 --network host',
        port: 20001,
      }),
    ).toContain("--label 'ops-actions.port=20001' --env PORT=20001 --network host 'i'");
  });
});

describe('locks', () => {
  const owner = {
    token: 'tok-1',
    repository: 'acme/fleet',
    run: '4242',
    job: 'deploy',
    time: '2025-01-01T00:00:00.000Z',
  };

  it('writes and reads the owner line', () => {
    expect(ownerLine(owner)).toBe(
      'token=tok-1 repository=acme/fleet run=4242 job=deploy time=2025-01-01T00:00:00.000Z',
    );
    expect(parseOwnerLine(ownerLine(owner))).toEqual(owner);
    expect(describeOwner(ownerLine(owner), Date.parse('2025-01-01T00:01:00Z'))).toMatch(
      /^acme\/fleet run 4242 job deploy, since 2025-01-01T00:00:00\.000Z \(1(\.0)? ?m(in)?.* ago\)$/,
    );
    expect(describeOwner('')).toMatch(/unknown owner/);
  });

  it('takes the lock by hard link of a complete file, releases only with its token', () => {
    const acquire = acquireCommand('web', owner);
    expect(acquire).toContain(
      `ln "$HOME/.ops-actions/locks"/'.web.tok-1' "$HOME/.ops-actions/locks"/'web.lock'`,
    );
    expect(acquire).toContain(`grep -qF 'token=tok-1 '`);
    expect(releaseCommand('web', 'tok-1')).toContain(
      `grep -qF 'token=tok-1 ' "$HOME/.ops-actions/locks"/'web.lock'; then rm -f`,
    );
  });

  it.each([
    ['ops-actions-lock acquired\n', { kind: 'acquired' }],
    ['ops-actions-lock adopted\n', { kind: 'adopted' }],
    ['motd\nops-actions-lock held token=x run=1\n', { kind: 'held', owner: 'token=x run=1' }],
    ['ssh: connect refused\n', { kind: 'unknown' }],
  ])('parses acquire answer %j', (out, expected) => expect(parseAcquire(out)).toEqual(expected));

  it.each([
    ['ops-actions-lock released', 'released'],
    ['ops-actions-lock absent', 'absent'],
    ['ops-actions-lock other token=y', 'other'],
    ['Permission denied', 'unknown'],
  ])('parses release answer %j', (out, expected) => expect(parseRelease(out)).toBe(expected));

  it.each([
    ['', []],
    ['not json', []],
    ['{"host":"h"}', []],
    [
      '[{"host":"root@h:22","service":"web","token":"t"},{"host":1}]',
      [{ host: 'root@h:22', service: 'web', token: 't' }],
    ],
    [
      '[{"host":"h:22","service":"web","token":"t","taken":false},{"host":"h:22","service":"web","token":"t","taken":"no"}]',
      [{ host: 'h:22', service: 'web', token: 't', taken: false }],
    ],
  ])('reads held locks from state %j', (state, expected) => expect(parseHeldLocks(state)).toEqual(expected));
});

describe('hosts', () => {
  let nextId = 100;
  const droplet = (name: string, tags: string[], ip: string | undefined, status = 'active') => ({
    id: nextId++,
    name,
    tags,
    publicIpv4: ip,
    status,
  });
  const tag = 'deployed-via-api';
  const droplets = [
    droplet('web-1', [tag], '203.0.113.1'),
    droplet('web-2', [tag], '203.0.113.2'),
    droplet('mine', ['personal'], '203.0.113.9'),
    droplet('no-ip', [tag], undefined),
    droplet('off', [tag], '203.0.113.3', 'off'),
  ];

  it('takes tagged, active droplets with a public IPv4, as root@ip:22 unless a hosts line says otherwise', () => {
    const choice = fromDroplets(tag, droplets, [{ user: 'deploy', host: 'web-2', port: 2222 }]);
    expect(choice.hosts.map((h) => [h.id, h.where])).toEqual([
      ['web-1', 'root@203.0.113.1:22'],
      ['web-2', 'deploy@203.0.113.2:2222'],
    ]);
    expect(choice.skipped.map((s) => s.name)).toEqual(['no-ip', 'off']);
  });

  it('refuses a hosts line naming an untagged droplet', () => {
    expect(() => fromDroplets(tag, droplets, [{ user: 'root', host: '203.0.113.9', port: 22 }])).toThrow(
      StepError,
    );
  });

  it('fails clearly when nothing carries the tag', () => {
    expect(() => fromDroplets('none', droplets, [])).toThrow(/no active droplet .* carries this tag/);
  });

  it('takes the hosts lines as they are (the input parser has refused two lines for one machine)', () => {
    expect(
      fromHostsInput([
        { user: 'a', host: 'h', port: 22 },
        { user: undefined, host: '::1', port: 2200 },
      ]).map((h) => h.where),
    ).toEqual(['a@h:22', '[::1]:2200']);
  });

  it('deploys a droplet the listing answered twice once, and says what it merged', () => {
    const twice = { ...droplet('web-1', [tag], '203.0.113.1'), id: 7 };
    const choice = fromDroplets(tag, [twice, droplet('web-2', [tag], '203.0.113.2'), twice], []);
    expect(choice.hosts.map((h) => h.id)).toEqual(['web-1', 'web-2']);
    expect(choice.merged).toEqual([
      'droplet web-1 (id 7) was listed 2 times by DigitalOcean; it is deployed once',
    ]);
  });

  it.each([
    [
      'two droplets at one address',
      [droplet('a', [tag], '203.0.113.1'), { ...droplet('b', [tag], '203.0.113.1'), id: 2 }],
      [],
      'droplets a and b are both reached as 203.0.113.1:22; one machine would be deployed twice',
    ],
    [
      'two hosts lines naming one droplet, by IP and by name (any case, trailing dot)',
      [droplet('web-1', [tag], '203.0.113.1')],
      [
        { user: 'deploy', host: '203.0.113.1', port: 2222 },
        { user: 'root', host: 'WEB-1.', port: 22 },
      ],
      'the hosts entries deploy@203.0.113.1:2222 and root@WEB-1.:22 both name it',
    ],
  ])('refuses %s', (_name, list, hostsInput, error) => {
    expect(() => fromDroplets(tag, list, hostsInput)).toThrow(error);
  });
});

describe('DigitalOcean droplets by tag', () => {
  it.each([
    ['https://api.digitalocean.com/v2/droplets?page=2&per_page=200', 2],
    [undefined, undefined],
    ['not a url', undefined],
  ])('next page of %j', (link, page) => expect(nextPage(link)).toBe(page));

  it('follows every page on the configured base URL and returns only tagged droplets', async () => {
    const fake = createDigitalOceanFake({ token: 'do-canary-token' });
    const base = await fake.start();
    try {
      for (let i = 0; i < 205; i++) fake.addDroplet({ name: `web-${i}`, tags: ['deployed-via-api'] });
      fake.addDroplet({ name: 'personal', tags: ['home'] });
      const client = createDigitalOceanClient({
        baseUrl: `${base}/v2`,
        token: 'do-canary-token',
        redact: (t) => t,
      });
      const droplets = await listDropletsByTag(client, 'deployed-via-api');
      expect(droplets).toHaveLength(205);
      expect(droplets.some((d) => d.name === 'personal')).toBe(false);
      expect(droplets[0]).toMatchObject({ name: 'web-0', publicIpv4: '127.0.0.1', status: 'active' });
      expect(
        fake.server.received('GET /v2/droplets').map((r) => new URLSearchParams(r.query).get('page')),
      ).toEqual(['1', '2']);
      expect(fake.server.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  });

  it('reads a droplet without a usable public IPv4 as one without an address (issue 17 review)', async () => {
    const fake = createDigitalOceanFake({ token: 'do-canary-token' });
    const base = await fake.start();
    try {
      fake.addDroplet({ name: 'web-0', tags: ['deployed-via-api'] });
      let id = 9000;
      const odd = (name: string, networks: unknown) => ({
        id: id++,
        name,
        status: 'active',
        tags: ['deployed-via-api'],
        networks,
      });
      const entries = [
        odd('private-only', { v4: [{ ip_address: '10.0.0.9', type: 'private' }] }),
        odd('no-networks', null),
        odd('v4-not-a-list', { v4: 'x' }),
        odd('null-entry-x', { v4: [null, { type: 'public', ip_address: null }] }),
        odd('option-like-address', { v4: [{ type: 'public', ip_address: '-Jevil.example' }] }),
        odd('v6-as-v4-address', { v4: [{ type: 'public', ip_address: '::1' }] }),
      ];
      fake.server.inject({
        route: 'GET /v2/droplets',
        fault: { listEntries: { entries, field: 'droplets' } },
      });
      const client = createDigitalOceanClient({
        baseUrl: `${base}/v2`,
        token: 'do-canary-token',
        redact: (t) => t,
      });
      const droplets = await listDropletsByTag(client, 'deployed-via-api');
      expect(droplets.map((d) => [d.name, d.publicIpv4])).toEqual([
        ['web-0', '127.0.0.1'],
        ...entries.map((e) => [e.name, undefined]),
      ]);
      expect(fromDroplets('deployed-via-api', droplets, []).skipped.map((s) => s.reason)).toEqual(
        entries.map(() => 'it has no public IPv4 address'),
      );
    } finally {
      await fake.stop();
    }
  });

  it('names the provider and operation when the token is refused, without the token', async () => {
    const fake = createDigitalOceanFake({ token: 'right-token' });
    const base = await fake.start();
    try {
      const client = createDigitalOceanClient({
        baseUrl: `${base}/v2`,
        token: 'wrong-canary-token',
        redact: (t) => t.replaceAll('wrong-canary-token', '***'),
      });
      const error = await listDropletsByTag(client, 'x').catch((e: Error) => e);
      expect(String(error)).toMatch(/digitalocean-token was refused by DigitalOcean \(401/);
      expect(String(error)).not.toContain('wrong-canary-token');
    } finally {
      await fake.stop();
    }
  });
});
