import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** One request the proxy passed on: an absolute-form request it forwarded, or a CONNECT tunnel it opened. */
export interface Forwarded {
  method: string;
  /** `http://host:port/path` for a forwarded request, `host:port` for a tunnel. */
  target: string;
  /** The Proxy-Authorization header the client sent, if any. */
  proxyAuthorization?: string;
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  forwarded: Forwarded[];
  stop(): Promise<void>;
}

/**
 * A loopback HTTP proxy that records what it passes on, to check that a
 * bundle's requests honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY. It speaks the
 * two forms a proxy is asked in (RFC 9112 §3.2.2 absolute-form, which undici's
 * ProxyAgent uses for http origins; RFC 9110 §9.3.6 CONNECT, which it uses for
 * https origins) and nothing more: no caching, no rewriting.
 */
export async function startCountingProxy(): Promise<CountingProxy> {
  const forwarded: Forwarded[] = [];
  const sockets = new Set<Socket>();
  const record = (req: IncomingMessage, target: string) => {
    const auth = req.headers['proxy-authorization'];
    forwarded.push({ method: req.method ?? '', target, ...(auth ? { proxyAuthorization: auth } : {}) });
  };
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '');
    record(req, target.href);
    // Hop-by-hop headers for the proxy stay with the proxy (RFC 9110 §7.6.1).
    const { 'proxy-authorization': _auth, 'proxy-connection': _conn, ...headers } = req.headers;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    record(req, req.url ?? '');
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [upstream, client]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        upstream.destroy();
        client.destroy();
      });
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    forwarded,
    stop: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
