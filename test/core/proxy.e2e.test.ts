import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKamalFake, type KamalFake } from '../../sandbox/fakes/kamal.ts';
import { AUTH_TOKEN, expectNoSecrets, flyInputs, startFly } from '../config-update/fixtures.ts';
import { type CountingProxy, startCountingProxy } from '../helpers/counting-proxy.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * Self-hosted runners behind a proxy hand the step HTTPS_PROXY, HTTP_PROXY and
 * NO_PROXY. The committed config-update bundle is run against the sandbox with
 * those variables pointing at a loopback proxy that counts what it passed on.
 */

let proxy: CountingProxy | undefined;
let kamal: KamalFake | undefined;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  if (kamal) for (const host of kamal.hosts) expect(host.server.violations).toEqual([]);
  await kamal?.stop();
  await proxy?.stop();
  kamal = undefined;
  proxy = undefined;
});

async function kamalBehindProxy(env: (proxyUrl: string, k: KamalFake) => Record<string, string>) {
  proxy = await startCountingProxy();
  kamal = createKamalFake({ hosts: ['web-1', 'web-2'] });
  await kamal.start();
  const run = await runBundle('config-update', {
    inputs: {
      target: 'kamal',
      urls: kamal.hosts.map((h) => `${h.url}/update_config`).join('\n'),
      'auth-token': AUTH_TOKEN,
    },
    env: env(proxy.url, kamal),
  });
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  for (const host of kamal.hosts) expect(host.server.requests).toHaveLength(1);
  return { run, proxy, kamal };
}

describe('provider calls honour the runner proxy variables (committed bundle)', () => {
  it('forwards every request to an http origin through HTTP_PROXY', async () => {
    const { proxy, kamal } = await kamalBehindProxy((url) => ({ HTTP_PROXY: url }));
    expect(proxy.forwarded.map((f) => `${f.method} ${f.target}`).sort()).toEqual(
      kamal.hosts.map((h) => `POST ${h.url}/update_config`).sort(),
    );
  });

  it.each([
    ['NO_PROXY=127.0.0.1', { NO_PROXY: '127.0.0.1' }],
    ['lower-case no_proxy=localhost,127.0.0.1', { no_proxy: 'localhost,127.0.0.1' }],
    ['NO_PROXY=*', { NO_PROXY: '*' }],
    // CIDR ranges, as curl (7.86+) and the runner read them; undici's own list knows none.
    ['NO_PROXY=127.0.0.0/8', { NO_PROXY: '127.0.0.0/8' }],
    ['NO_PROXY=10.0.0.0/8, 127.0.0.1/32', { NO_PROXY: '10.0.0.0/8, 127.0.0.1/32' }],
    ['no_proxy=.internal fd00::/8 127.0.0.0/16', { no_proxy: '.internal fd00::/8 127.0.0.0/16' }],
  ])('keeps loopback origins direct when %s', async (_, noProxy) => {
    const { proxy } = await kamalBehindProxy((url) => ({ http_proxy: url, ...noProxy }));
    expect(proxy.forwarded).toEqual([]);
  });

  it('bypasses only the host:port NO_PROXY names', async () => {
    const { proxy, kamal } = await kamalBehindProxy((url, k) => ({
      HTTP_PROXY: url,
      NO_PROXY: new URL(k.host('web-1').url).host,
    }));
    expect(proxy.forwarded.map((f) => f.target)).toEqual([`${kamal.host('web-2').url}/update_config`]);
  });

  it('keeps origins outside a NO_PROXY range on the proxy', async () => {
    const { proxy, kamal } = await kamalBehindProxy((url) => ({
      HTTP_PROXY: url,
      NO_PROXY: '10.0.0.0/8,127.0.0.2/32',
    }));
    expect(proxy.forwarded).toHaveLength(kamal.hosts.length);
  });

  it('a proxy that refuses connections is named (host:port, never its credentials) in the error', async () => {
    kamal = createKamalFake({ hosts: ['web-1'] });
    await kamal.start();
    // A port nothing listens on: bound, then closed.
    const closed = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const password = 'pr0xy-s3cret-77a1';
    const run = await runBundle('config-update', {
      inputs: { target: 'kamal', urls: `${kamal.hosts[0]!.url}/update_config`, 'auth-token': AUTH_TOKEN },
      env: { HTTP_PROXY: `http://ops:${password}@127.0.0.1:${closed}`, OPS_ACTIONS_REQUEST_TIMEOUT: '2' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toContain(`through the proxy 127.0.0.1:${closed}`);
    expect(run.everything).not.toContain(password);
    expect(run.everything).not.toContain(Buffer.from(`ops:${password}`).toString('base64'));
    expect(kamal.hosts[0]!.server.requests).toEqual([]);
  });

  it('a target whose answer times out behind a proxy fails with the timeout, not an uncaught error', async () => {
    // A proxy that takes the connection and never answers: the per-attempt timeout aborts the request.
    const held: Socket[] = [];
    const silent = createNetServer((socket) => held.push(socket.on('error', () => {})));
    await new Promise<void>((ready) => silent.listen(0, '127.0.0.1', ready));
    stops.push(
      () =>
        new Promise<void>((done) => {
          for (const socket of held) socket.destroy();
          silent.close(() => done());
        }),
    );
    const { port } = silent.address() as { port: number };
    const run = await runBundle('config-update', {
      inputs: {
        target: 'kamal',
        urls: 'http://127.0.0.1:9/update_config',
        'auth-token': AUTH_TOKEN,
        retries: '0',
        timeout: '1',
      },
      env: { HTTP_PROXY: `http://ops:pw-9f1e@127.0.0.1:${port}` },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      'Could not update 1 of 1 targets: more than max-failures (0) failed: 127.0.0.1:9 (no answer within 1000 ms)',
    ]);
    expect(run.everything).not.toContain('Cannot set property');
    expect(run.outputs.failed).toBe('1');
  });

  it('sends http origins direct when only HTTPS_PROXY is set', async () => {
    const { proxy } = await kamalBehindProxy((url) => ({ HTTPS_PROXY: url }));
    expect(proxy.forwarded).toEqual([]);
  });

  it('sends the Fly Machines API and the app calls through the proxy with its credentials, and prints none', async () => {
    proxy = await startCountingProxy();
    const fly = await startFly();
    stops.push(() => fly.stop());
    fly.addMachine({ id: 'e100', region: 'ams' });
    fly.addMachine({ id: 'e200', region: 'fra' });
    const password = 'proxy-pass-4c1f9e0b';
    const withCredentials = proxy.url.replace('http://', `http://ops:${password}@`);
    const run = await runBundle('config-update', {
      inputs: flyInputs(fly),
      env: { HTTP_PROXY: withCredentials },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const targets = proxy.forwarded.map((f) => new URL(f.target).origin);
    expect(targets.filter((t) => t === fly.server.url).length).toBe(fly.server.requests.length);
    expect(targets.filter((t) => t === fly.app.url)).toHaveLength(2);
    const basic = `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;
    expect(proxy.forwarded.every((f) => f.proxyAuthorization === basic)).toBe(true);
    expect(run.everything).not.toContain(password);
    expectNoSecrets(run.everything);
  });

  it('tunnels an https origin through HTTPS_PROXY with CONNECT', async () => {
    proxy = await startCountingProxy();
    const tls = await startTlsEndpoint();
    stops.push(tls.stop);
    const run = await runBundle('config-update', {
      inputs: { target: 'kamal', urls: `${tls.url}/update_config`, 'auth-token': AUTH_TOKEN },
      env: { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: tls.certPath },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(tls.received).toEqual(['POST /update_config']);
    expect(proxy.forwarded).toEqual([{ method: 'CONNECT', target: new URL(tls.url).host }]);
  });
});

/** An https endpoint on loopback with a throw-away self-signed certificate (Node cannot make certificates). */
async function startTlsEndpoint() {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  const received: string[] = [];
  const server: Server = createServer(
    { key: readFileSync(keyPath), cert: readFileSync(certPath) },
    (req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    },
  );
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    certPath,
    received,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
