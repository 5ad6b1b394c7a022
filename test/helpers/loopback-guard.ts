import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy that refuses everything, on loopback, given to every bundle run as
 * HTTPS_PROXY/HTTP_PROXY with NO_PROXY for loopback: a request a bundle makes
 * to a host off loopback (a real registry such as ghcr.io named by a test world)
 * is refused here at once instead of leaving the machine, not even for DNS.
 * Both undici's EnvHttpProxyAgent and @actions/http-client read these variables.
 */
let guard: Promise<string> | undefined;

export function loopbackGuardUrl(): Promise<string> {
  guard ??= new Promise<string>((resolve) => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(403).end('tests stay on loopback');
    });
    server.on('connect', (_req, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
    server.unref();
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
  return guard;
}

/** NO_PROXY for the guard: every name and address the tests' servers listen on. */
export const LOOPBACK_NO_PROXY = '127.0.0.1,localhost,::1,[::1]';
