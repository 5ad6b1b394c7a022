import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The loopback HTTP server every provider fake is built on: routes, a contract
 * check before every handler, fault injection per route and per call number,
 * and a record of every request and every contract violation for assertions.
 */

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** The raw body. */
  body: Buffer;
  /** The body parsed as JSON when it parses, else undefined. */
  json: unknown;
  params: Record<string, string>;
}

export interface FakeResponse {
  status: number;
  json?: unknown;
  body?: string | Buffer;
  /** Sent piece by piece as it is produced (chunked), e.g. a build log stream. */
  stream?: AsyncIterable<string | Buffer>;
  headers?: Record<string, string>;
}

export type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** What the contract says about one request. */
export interface ContractCheck {
  /** The contract's name for the operation (operationId or `METHOD /template`). */
  operation?: string;
  violations: string[];
  /** When the real service would refuse the request: its answer. */
  reject?: FakeResponse;
}

export type ContractChecker = (req: FakeRequest) => ContractCheck;

export interface Fault {
  status?: number;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  /** Sets `Retry-After` (seconds or an HTTP date). */
  retryAfter?: string | number;
  /** Waits this long before answering (or before the fault's answer). */
  delayMs?: number;
  /** Destroys the connection without an answer. */
  drop?: boolean;
  /** Never answers; the connection stays open until the client gives up or the fake stops. */
  hang?: boolean;
  /**
   * With `drop` or `hang`: the request is handled first (it takes effect) and only
   * its answer is lost, the case where a client cannot know whether a POST was done.
   */
  after?: boolean;
  /**
   * The handler answers as usual, then `entries` go into the list it answered (the
   * body, or its `field`), after its first entry: a list with `null` or non-object
   * entries, which no provider contract allows but issue 17 saw arrive (a proxy's
   * rewrite, a provider bug), for tests of the one check every list read goes through.
   */
  listEntries?: { entries: unknown[]; field?: string };
}

export interface FaultRule {
  /** An operation name, or `METHOD /route-pattern` as registered. */
  route: string;
  /** 1-based call number of that route at which the fault starts (default: the next call). */
  call?: number;
  /** How many calls it affects from there (default 1; Infinity for all). */
  times?: number;
  fault: Fault;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  json: unknown;
  operation: string | undefined;
  route: string | undefined;
  status: number | 'dropped' | 'hung';
  at: number;
  faulted: boolean;
  /** For a fault with `after`: the status the handler answered before the answer was lost. */
  handledStatus?: number;
}

export interface Violation {
  fake: string;
  method: string;
  path: string;
  operation: string | undefined;
  problems: string[];
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export interface FakeServerOptions {
  name: string;
  contract?: ContractChecker;
  /** Headers added to every answer, e.g. rate-limit headers. */
  decorate?: (req: FakeRequest, res: FakeResponse) => Record<string, string>;
  /** The provider's answer for a path no route serves (async, so a catch-all endpoint can be slow or hang). */
  notFound?: (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;
}

export class FakeServer {
  readonly name: string;
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  private readonly routes: Route[] = [];
  private readonly faults: (FaultRule & { remaining: number; startAt: number })[] = [];
  private readonly calls = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly options: FakeServerOptions;
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: FakeServerOptions) {
    this.options = options;
    this.name = options.name;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.name} fake is not started`);
    return this.baseUrl;
  }

  /** `pattern` uses `:name` segments, e.g. `/v1/apps/:app/machines/:id`. */
  route(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const source = pattern
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({
      method: method.toUpperCase(),
      pattern,
      regex: new RegExp(`^${source}$`),
      keys,
      handler,
    });
    return this;
  }

  inject(rule: FaultRule): this {
    const seen = this.calls.get(rule.route) ?? 0;
    this.faults.push({ ...rule, remaining: rule.times ?? 1, startAt: rule.call ?? seen + 1 });
    return this;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests whose operation or `METHOD /pattern` route matches. */
  /** Connections open right now, e.g. to see that a killed client left none hanging. */
  get openConnections(): number {
    return this.sockets.size;
  }

  received(route: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operation === route || r.route === route);
  }

  reset(): void {
    this.requests.length = 0;
    this.violations.length = 0;
    this.calls.clear();
    this.clearFaults();
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`fake ${this.name} crashed: ${error instanceof Error ? error.stack : String(error)}`);
        }
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const { port: bound } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${bound}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private async handle(incoming: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const url = new URL(incoming.url ?? '/', 'http://fake');
    const req: FakeRequest = {
      method: (incoming.method ?? 'GET').toUpperCase(),
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: flatHeaders(incoming),
      body,
      json: parseJson(body),
      params: {},
    };
    const matched = this.match(req);
    const check = this.options.contract?.(req) ?? { violations: [] };
    const route = matched ? `${matched.method} ${matched.pattern}` : undefined;
    const record: RecordedRequest = {
      method: req.method,
      path: req.path,
      query: url.search,
      headers: req.headers,
      body: body.toString('utf8'),
      json: req.json,
      operation: check.operation,
      route,
      status: 0,
      at: Date.now(),
      faulted: false,
    };
    this.requests.push(record);
    if (check.violations.length > 0) {
      this.violations.push({
        fake: this.name,
        method: req.method,
        path: req.path,
        operation: check.operation,
        problems: check.violations,
      });
    }

    const taken = this.takeFault([check.operation, route]);
    const lostAnswer = taken?.after && (taken.drop || taken.hang) ? taken : undefined;
    const fault = lostAnswer ? undefined : taken;
    if (fault) {
      record.faulted = true;
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.hang) {
        record.status = 'hung';
        return;
      }
      if (fault.drop) {
        record.status = 'dropped';
        incoming.socket.destroy();
        return;
      }
      if (fault.status !== undefined) {
        const headers = { ...fault.headers };
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        return this.send(req, res, record, {
          status: fault.status,
          json: fault.json ?? (fault.body === undefined ? { error: 'injected fault' } : undefined),
          body: fault.body,
          headers,
        });
      }
    }

    const handled = check.reject
      ? check.reject
      : matched
        ? await matched.handler(req)
        : ((await this.options.notFound?.(req)) ?? { status: 404, json: { error: 'not found' } });
    const answer = fault?.listEntries ? withEntries(handled, fault.listEntries) : handled;
    if (lostAnswer) {
      record.faulted = true;
      record.handledStatus = answer.status;
      if (lostAnswer.delayMs) await sleep(lostAnswer.delayMs);
      record.status = lostAnswer.hang ? 'hung' : 'dropped';
      if (lostAnswer.drop) incoming.socket.destroy();
      return;
    }
    return this.send(req, res, record, answer);
  }

  private match(req: FakeRequest): Route | undefined {
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const m = route.regex.exec(req.path);
      if (!m) continue;
      route.keys.forEach((key, i) => {
        req.params[key] = m[i + 1]!;
      });
      return route;
    }
    return undefined;
  }

  private takeFault(names: (string | undefined)[]): Fault | undefined {
    const keys = [...new Set(names.filter((n): n is string => n !== undefined))];
    const counts = keys.map((key) => {
      const n = (this.calls.get(key) ?? 0) + 1;
      this.calls.set(key, n);
      return [key, n] as const;
    });
    for (const rule of this.faults) {
      const hit = counts.find(([key, n]) => key === rule.route && n >= rule.startAt);
      if (hit && rule.remaining > 0) {
        rule.remaining--;
        return rule.fault;
      }
    }
    return undefined;
  }

  private send(req: FakeRequest, res: ServerResponse, record: RecordedRequest, answer: FakeResponse): void {
    const headers: Record<string, string> = { ...this.options.decorate?.(req, answer), ...answer.headers };
    let payload: string | Buffer = '';
    if (answer.json !== undefined) {
      payload = JSON.stringify(answer.json);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    } else if (answer.body !== undefined) {
      payload = answer.body;
    }
    record.status = answer.status;
    res.writeHead(answer.status, headers);
    if (answer.stream) {
      writeStream(res, answer.stream).catch(() => res.destroy());
      return;
    }
    res.end(payload);
  }
}

function withEntries(answer: FakeResponse, added: NonNullable<Fault['listEntries']>): FakeResponse {
  const body = structuredClone(answer.json) as Record<string, unknown> | unknown[];
  const list = added.field === undefined ? body : (body as Record<string, unknown>)[added.field];
  if (!Array.isArray(list))
    throw new Error(`listEntries: the answer holds no list at ${added.field ?? 'its body'}`);
  list.splice(Math.min(1, list.length), 0, ...added.entries);
  return { ...answer, json: body };
}

async function writeStream(res: ServerResponse, chunks: AsyncIterable<string | Buffer>): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return;
    res.write(chunk);
  }
  res.end();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
