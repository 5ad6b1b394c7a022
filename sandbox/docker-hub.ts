import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import type { Registry } from './registry.ts';

/**
 * Docker Hub's two hosts, GitHub's container registry and Fly's on loopback,
 * for a bundle that must reach them by name: an HTTPS proxy (set as
 * HTTPS_PROXY) that answers CONNECT to `registry-1.docker.io:443`,
 * `auth.docker.io:443`, `ghcr.io:443` and `registry.fly.io:443` itself, with a
 * certificate from a throw-away CA (given to Node as NODE_EXTRA_CA_CERTS),
 * and passes the requests on to a sandbox registry with token auth and its
 * token server. Any other host is recorded and refused, so a request to
 * `index.docker.io` or `docker.io` shows. Every request's Authorization header
 * is kept per host (`authorizations`): which credentials reached which registry.
 *
 * The registry's Bearer challenge is rewritten to name each registry's realm
 * and service: Docker Hub's as it sends it
 * (https://docs.docker.com/reference/api/registry/auth/:
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"`);
 * ghcr.io's token endpoint on its own host (`https://ghcr.io/token`, service `ghcr.io`, as GitHub's
 * "Working with the Container registry" page has `docker login ghcr.io` exchange the token there);
 * registry.fly.io's on its own host too, since Fly documents only the login (`fly auth docker`
 * stores user `x` and the API token for registry.fly.io: superfly/flyctl
 * internal/command/auth/docker.go), not its challenge: a realm on the same host keeps every
 * credential sent for it in view here.
 */

export const DOCKER_HUB_REGISTRY_HOST = 'registry-1.docker.io';
export const DOCKER_HUB_AUTH_HOST = 'auth.docker.io';
export const GHCR_HOST = 'ghcr.io';
export const FLY_REGISTRY_HOST = 'registry.fly.io';
/** Registries whose token endpoint is `/token` on their own host, with the service they name. */
const OWN_REALM: Record<string, string> = { [GHCR_HOST]: 'ghcr.io', [FLY_REGISTRY_HOST]: 'registry.fly.io' };
const HOSTS = [DOCKER_HUB_REGISTRY_HOST, DOCKER_HUB_AUTH_HOST, ...Object.keys(OWN_REALM)];
const OPENSSL = 'openssl';

export interface DockerHubFront {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY. */
  proxyUrl: string;
  /** A PEM file with the CA that signed the hosts' certificate, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Each request seen: CONNECT targets, and `METHOD https://host/path` inside the tunnels. */
  received: string[];
  /** Each request inside the tunnels with the Authorization header it carried (undefined: none). */
  authorizations: { host: string; url: string; authorization: string | undefined }[];
  stop(): Promise<void>;
}

export async function startDockerHubFront(registry: Registry): Promise<DockerHubFront> {
  const tokenServer = registry.tokenServer;
  if (!tokenServer) throw new Error('the Docker Hub front needs a registry with token auth');
  const dir = await mkdtemp(join(tmpdir(), 'docker-hub-'));
  const tls = await certificates(dir);
  const received: string[] = [];
  const authorizations: DockerHubFront['authorizations'] = [];
  const sockets = new Set<Socket>();

  /** `realm`: the realm and service the registry's challenge is rewritten to name. */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    realm?: { url: string; service: string },
  ) => {
    const [host, port] = target.split(':');
    const upstream = httpRequest(
      { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers = { ...answer.headers };
        const challenge = headers['www-authenticate'];
        if (realm && typeof challenge === 'string')
          headers['www-authenticate'] = challenge
            .replace(/realm="[^"]*"/, `realm="${realm.url}"`)
            .replace(/service="[^"]*"/, `service="${realm.service}"`);
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const toTokenServer = (req: IncomingMessage, res: ServerResponse) => {
    // The token server checks the service it is asked for against the registry's own.
    const url = new URL(req.url ?? '/', 'https://x');
    url.searchParams.set('service', 'sandbox-registry');
    req.url = `${url.pathname}${url.search}`;
    return forward(req, res, new URL(tokenServer.url).host);
  };
  const inner: Server = createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:443$/, '');
    received.push(`${req.method} https://${host}${req.url}`);
    authorizations.push({ host, url: `https://${host}${req.url}`, authorization: req.headers.authorization });
    const registryHost = new URL(registry.url).host;
    if (host === DOCKER_HUB_REGISTRY_HOST)
      return forward(req, res, registryHost, {
        url: `https://${DOCKER_HUB_AUTH_HOST}/token`,
        service: 'registry.docker.io',
      });
    if (host === DOCKER_HUB_AUTH_HOST) return toTokenServer(req, res);
    const service = OWN_REALM[host];
    if (service !== undefined) {
      if ((req.url ?? '').startsWith('/token')) return toTokenServer(req, res);
      return forward(req, res, registryHost, { url: `https://${host}/token`, service });
    }
    res.writeHead(502).end();
  });
  const proxy: Server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.writeHead(502).end();
  });
  proxy.on('connect', (req: IncomingMessage, client: Socket) => {
    received.push(`CONNECT ${req.url}`);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const [host] = (req.url ?? '').split(':');
    if (!HOSTS.includes(host ?? '')) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const secure = new TLSSocket(client, { isServer: true, key: tls.key, cert: tls.cert });
    inner.emit('connection', secure);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    proxyUrl: `http://127.0.0.1:${port}`,
    caFile: tls.caFile,
    received,
    authorizations,
    async stop() {
      for (const socket of sockets) socket.destroy();
      inner.closeAllConnections();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A CA and a certificate for every host of the front signed by it; Node makes keys but not certificates. */
async function certificates(dir: string): Promise<{ caFile: string; key: Buffer; cert: Buffer }> {
  const run = (args: string[]) => promisify(execFile)(OPENSSL, args);
  const path = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=sandbox docker hub ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  await run(['req', ...ec, '-keyout', path('hub.key'), '-out', path('hub.csr'), '-subj', '/CN=docker hub']);
  await writeFile(
    path('hub.ext'),
    `subjectAltName=${HOSTS.map((h) => `DNS:${h}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  await run([
    'x509',
    '-req',
    '-in',
    path('hub.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    path('hub.ext'),
    '-out',
    path('hub.crt'),
  ]);
  return {
    caFile: path('ca.crt'),
    key: await readFile(path('hub.key')),
    cert: await readFile(path('hub.crt')),
  };
}
