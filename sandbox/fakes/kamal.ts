import { FakeServer } from '../fake-server.ts';
import { type EndpointBehaviour, type EndpointCall, EndpointInstance } from './app-endpoint.ts';

/**
 * Plain loopback hosts standing in for a user's Kamal servers: one FakeServer per host, any path,
 * no contract (the endpoint is the user's own). Every call is named `update` for fault injection.
 */

export interface KamalHost {
  name: string;
  server: FakeServer;
  endpoint: EndpointInstance;
  /** `http://127.0.0.1:<port>` once started. */
  readonly url: string;
}

export interface KamalFakeOptions {
  /** A count (hosts `host-1`...) or the host names. */
  hosts?: number | string[];
}

export function createKamalFake(options: KamalFakeOptions = {}) {
  const names =
    typeof options.hosts === 'object'
      ? options.hosts
      : Array.from({ length: options.hosts ?? 2 }, (_, i) => `host-${i + 1}`);
  const calls: EndpointCall[] = [];
  const hosts: KamalHost[] = names.map((name) => {
    const endpoint = new EndpointInstance(name, calls);
    const server = new FakeServer({
      name: `kamal-${name}`,
      contract: () => ({ operation: 'update', violations: [] }),
      notFound: (req) => endpoint.answer(req, { host: name }),
    });
    return {
      name,
      server,
      endpoint,
      get url() {
        return server.url;
      },
    };
  });

  function host(name: string): KamalHost {
    const found = hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no kamal host ${name}`);
    return found;
  }

  return {
    hosts,
    host,
    setBehaviour(name: string, behaviour: EndpointBehaviour): void {
      host(name).endpoint.behaviour = behaviour;
    },
    /** Calls received, in arrival order across hosts, or for one host. */
    calls(name?: string): EndpointCall[] {
      return name ? calls.filter((c) => c.target === name) : [...calls];
    },
    async start(): Promise<void> {
      await Promise.all(hosts.map((h) => h.server.start()));
    },
    async stop(): Promise<void> {
      await Promise.all(hosts.map((h) => h.server.stop()));
    },
  };
}

export type KamalFake = ReturnType<typeof createKamalFake>;
