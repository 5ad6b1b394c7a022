import type { Dispatcher } from 'undici';

/**
 * undici, loaded on the first request and only the parts we use: an agent and
 * its request API. The package's index also loads fetch, WebSocket, caches and
 * mocks — measured at 70-140 ms before the first request, against 15-20 ms for
 * these modules — and a dry-run that sends nothing loads none.
 *
 * Self-hosted runners behind a proxy get HTTPS_PROXY, HTTP_PROXY and NO_PROXY
 * (or their lower-case forms) from the runner. When either proxy variable is
 * set, every request goes through undici's EnvHttpProxyAgent, which reads all
 * three: https origins through a CONNECT tunnel, http origins forwarded to the
 * proxy, hosts NO_PROXY lists (names, suffixes, `*`, optional ports) direct.
 * Without a proxy variable the plain Agent is the same thing, loaded faster.
 */

type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};
export type UndiciRequest = (url: string, options?: RequestOptions) => Promise<Dispatcher.ResponseData>;

let loaded: Promise<{ request: UndiciRequest; agent: Dispatcher }> | undefined;

/**
 * Connections per origin: config-update's `concurrency` goes up to 256, all to one origin when
 * the targets share a URL (Fly machines behind the app's URL). Fewer would queue requests inside
 * undici, where their per-attempt timeout already runs.
 */
const AGENT_OPTIONS = { keepAliveTimeout: 10_000, connections: 256 };

/** Whether the environment names a proxy, in the variables undici's EnvHttpProxyAgent reads. */
function proxyConfigured(): boolean {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some((name) => process.env[name]);
}

export function loadUndici(): Promise<{ request: UndiciRequest; agent: Dispatcher }> {
  loaded ??= proxyConfigured() ? loadWithProxy() : loadDirect();
  return loaded;
}

async function loadDirect(): Promise<{ request: UndiciRequest; agent: Dispatcher }> {
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
  return { request, agent };
}

/** The package's index: a CONNECT tunnel needs `Dispatcher#connect`, which only the index installs. */
async function loadWithProxy(): Promise<{ request: UndiciRequest; agent: Dispatcher }> {
  const undici = await import('undici');
  const agent = new undici.EnvHttpProxyAgent(AGENT_OPTIONS);
  const request: UndiciRequest = (url, options = {}) =>
    undici.request(url, { ...options, dispatcher: options.dispatcher ?? agent });
  return { request, agent };
}

/** Closes the keep-alive connections at the end of a run, so the process exits at once. */
export async function closeUndici(): Promise<void> {
  if (!loaded) return;
  const { agent } = await loaded;
  await agent.close();
}
