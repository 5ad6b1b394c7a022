import type { Dispatcher } from 'undici';
import { parseNoProxy } from './no-proxy.ts';

/**
 * undici, loaded on the first request and only the parts we use: an agent and
 * its request API. The package's index also loads fetch, WebSocket, caches and
 * mocks — measured at 70-140 ms before the first request, against 15-20 ms for
 * these modules — and a dry-run that sends nothing loads none.
 *
 * Self-hosted runners behind a proxy get HTTPS_PROXY, HTTP_PROXY and NO_PROXY
 * (or their lower-case forms) from the runner. When either proxy variable is
 * set, every request goes through a dispatcher that picks the proxy per
 * origin (`loadWithProxy`); without one the plain Agent is loaded, faster.
 */

type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};
export type UndiciRequest = (url: string, options?: RequestOptions) => Promise<Dispatcher.ResponseData>;

/** An answer read to its end. */
export interface WholeAnswer {
  statusCode: number;
  /** Names in lower case, as undici parses them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ExchangeOptions {
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** Aborts the request; it rejects with the signal's reason. */
  signal?: AbortSignal;
  dispatcher?: Dispatcher | undefined;
}

/**
 * One request whose whole answer is wanted (the core HTTP client's every call): the agent's
 * `dispatch` with a handler that gathers the body, as undici's `request` does it
 * (lib/api/api-request.js) but without a `Readable`, an `AsyncResource` and their listeners
 * per request. A fan-out of 10 000 targets spent a tenth of its CPU and of its allocations
 * there, and those objects, alive while a request was in flight, were most of what each
 * garbage collection of the young generation had to copy (bench/config-update.ts).
 */
export type UndiciExchange = (url: string, options: ExchangeOptions) => Promise<WholeAnswer>;

interface Loaded {
  request: UndiciRequest;
  exchange: UndiciExchange;
  agent: Dispatcher;
}

let loaded: Promise<Loaded> | undefined;

/**
 * Connections per origin: config-update's `concurrency` goes up to 256, all to one origin when
 * the targets share a URL (Fly machines behind the app's URL). Fewer would queue requests inside
 * undici, where their per-attempt timeout already runs.
 */
const AGENT_OPTIONS = { keepAliveTimeout: 10_000, connections: 256 };

/** The variables that name a proxy, as the runner sets them. */
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

function proxyConfigured(): boolean {
  return PROXY_VARIABLES.some((name) => process.env[name]);
}

export function loadUndici(): Promise<Loaded> {
  loaded ??= proxyConfigured() ? loadWithProxy() : loadDirect();
  return loaded;
}

function exchangeThrough(
  agent: Dispatcher,
  nameError: (error: unknown, url: string) => unknown,
): UndiciExchange {
  return (url, options) =>
    new Promise((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let controller: Dispatcher.DispatchController | undefined;
      let statusCode = 0;
      let headers: WholeAnswer['headers'] = {};
      const chunks: Buffer[] = [];
      let settled = false;
      const onAbort = () => controller?.abort(signal?.reason);
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve({ statusCode, headers, body: Buffer.concat(chunks) });
        // The signal's own reason (a timeout, a cancellation) is ours to tell, not the network's.
        else reject(signal?.aborted && error === signal.reason ? error : nameError(error, url));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const parsed = new URL(url);
      try {
        (options.dispatcher ?? agent).dispatch(
          {
            origin: parsed.origin,
            path: `${parsed.pathname}${parsed.search}`,
            method: options.method,
            headers: options.headers,
            body: options.body ?? null,
          },
          {
            onRequestStart(c) {
              if (signal?.aborted) c.abort(signal.reason);
              else controller = c;
            },
            onResponseStart(_c, status, answered) {
              // 1xx answers (100 Continue) come before the real one.
              if (status < 200) return;
              statusCode = status;
              headers = answered;
            },
            onResponseData(_c, chunk) {
              chunks.push(chunk);
            },
            onResponseEnd() {
              settle();
            },
            onResponseError(_c, error) {
              settle(error);
            },
          },
        );
      } catch (error) {
        settle(error);
      }
    });
}

async function loadDirect(): Promise<Loaded> {
  const [{ default: Agent }, { default: requestOn }] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ]);
  const agent = new Agent(AGENT_OPTIONS);
  const request: UndiciRequest = (url, options = {}) => {
    const { dispatcher, method, ...rest } = options;
    const parsed = new URL(url);
    return requestOn.call(dispatcher ?? agent, {
      ...rest,
      origin: parsed.origin,
      path: `${parsed.pathname}${parsed.search}`,
      method: method ?? 'GET',
    });
  };
  return { request, exchange: exchangeThrough(agent, (error) => error), agent };
}

/**
 * The proxy of each request, as curl, the runner and @actions/http-client
 * choose it: http origins through http_proxy/HTTP_PROXY, https origins
 * through https_proxy/HTTPS_PROXY (an https origin without one goes direct),
 * and any origin NO_PROXY names (`parseNoProxy`: names, suffixes, ports, `*`,
 * CIDR ranges) direct. https origins are reached through a CONNECT tunnel,
 * http ones forwarded (undici's ProxyAgent, which sends the proxy URL's
 * credentials as Proxy-Authorization).
 */
async function loadWithProxy(): Promise<Loaded> {
  const undici = await import('undici');
  const env = process.env;
  const noProxy = parseNoProxy(env.no_proxy || env.NO_PROXY || '');
  const direct = new undici.Agent(AGENT_OPTIONS);
  const proxies = new Map<string, { agent: Dispatcher; label: string }>();
  for (const [protocol, uri] of [
    ['http:', env.http_proxy || env.HTTP_PROXY],
    ['https:', env.https_proxy || env.HTTPS_PROXY],
  ] as const) {
    if (!uri) continue;
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? uri : `http://${uri}`;
    proxies.set(protocol, {
      agent: new undici.ProxyAgent({ ...AGENT_OPTIONS, uri: withScheme }),
      label: proxyLabel(withScheme),
    });
  }
  const route = (origin: string | URL) => {
    const url = typeof origin === 'string' ? new URL(origin) : origin;
    return noProxy.bypasses(url) ? undefined : proxies.get(url.protocol);
  };
  proxyOf = (url) => route(url)?.label;

  class ProxyRouter extends undici.Dispatcher {
    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return (route(String(options.origin))?.agent ?? direct).dispatch(options, handler);
    }
    override async close(): Promise<void> {
      await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.agent.close())]);
    }
    override async destroy(): Promise<void> {
      await Promise.all([direct.destroy(), ...[...proxies.values()].map((p) => p.agent.destroy())]);
    }
  }
  const agent = new ProxyRouter() as unknown as Dispatcher;
  const request: UndiciRequest = async (url, options = {}) => {
    try {
      return await undici.request(url, { ...options, dispatcher: options.dispatcher ?? agent });
    } catch (error) {
      throw namingProxy(error, url);
    }
  };
  return { request, exchange: exchangeThrough(agent, namingProxy), agent };
}

/** `host:port` of a proxy URL: what messages name, never its credentials. */
function proxyLabel(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  } catch {
    return 'the configured proxy';
  }
}

/** The proxy a request to `url` goes through (`host:port`), once a proxy is loaded; undefined when direct. */
let proxyOf: (url: URL) => string | undefined = () => undefined;

/**
 * A failed request names the proxy it went through: `connect ECONNREFUSED
 * 10.0.0.5:3128 (through the proxy 10.0.0.5:3128)`, so a refused or
 * unreachable proxy is told apart from a refused provider. The error keeps
 * its class, name and code.
 */
export function namingProxy(error: unknown, url: string | URL): unknown {
  let label: string | undefined;
  try {
    label = proxyOf(typeof url === 'string' ? new URL(url) : url);
  } catch {
    return error;
  }
  // A DOMException (an abort or timeout reason) has a read-only message.
  if (!label || !(error instanceof Error) || error instanceof DOMException || error.name === 'AbortError')
    return error;
  const note = ` (through the proxy ${label})`;
  if (!error.message.endsWith(note)) error.message += note;
  return error;
}

/** Closes the keep-alive connections at the end of a run, so the process exits at once. */
export async function closeUndici(): Promise<void> {
  if (!loaded) return;
  const { agent } = await loaded;
  await agent.close();
}
