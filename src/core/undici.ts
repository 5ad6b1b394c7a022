import type { Agent, Dispatcher } from 'undici';

/**
 * undici, loaded on the first request and only the parts we use: its Agent and
 * its request API. The package's index also loads fetch, WebSocket, caches,
 * mocks and proxies — measured at 70-140 ms before the first request, against
 * 15-20 ms for these two modules — and a dry-run that sends nothing loads none.
 */

type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};
export type UndiciRequest = (url: string, options?: RequestOptions) => Promise<Dispatcher.ResponseData>;

let loaded: Promise<{ request: UndiciRequest; agent: Agent }> | undefined;

export function loadUndici(): Promise<{ request: UndiciRequest; agent: Agent }> {
  loaded ??= Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ]).then(([agentModule, requestModule]) => {
    const agent = new agentModule.default({ keepAliveTimeout: 10_000, connections: 128 });
    const request: UndiciRequest = (url, options = {}) => {
      const { dispatcher, method, ...rest } = options;
      const parsed = new URL(url);
      return requestModule.default.call(dispatcher ?? agent, {
        ...rest,
        origin: parsed.origin,
        path: `${parsed.pathname}${parsed.search}`,
        method: method ?? 'GET',
      });
    };
    return { request, agent };
  });
  return loaded;
}

/** Closes the keep-alive connections at the end of a run, so the process exits at once. */
export async function closeUndici(): Promise<void> {
  if (!loaded) return;
  const { agent } = await loaded;
  await agent.close();
}
