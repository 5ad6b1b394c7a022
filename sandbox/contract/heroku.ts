import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { ContractCheck, ContractChecker, FakeRequest, FakeResponse } from '../fake-server.ts';

/**
 * Checks requests against Heroku's interagent JSON Hyper-Schema: the endpoint
 * (a link's method + href template), the version Accept header, bearer auth and
 * the request body against the link's `schema`. Refusals use Heroku's bodies.
 */

export interface HerokuLink {
  /** `<resource>.<title in kebab case>`, e.g. `release.rollback`, `app.enable-acm`. */
  operation: string;
  resource: string;
  method: string;
  href: string;
  schema: object | undefined;
  targetSchema: object | undefined;
  regex: RegExp;
  templated: number;
}

export interface HerokuCheckerOptions {
  /** Whether a well-formed bearer key is known; default: any key. */
  acceptKey?: (key: string) => boolean;
  /** Paths outside the Platform API served by the same fake, e.g. build output streams. */
  passThrough?: (req: FakeRequest) => string | undefined;
}

export interface HerokuContract {
  check: ContractChecker;
  findLinks(method: string, path: string): HerokuLink[];
  /** Problems of a response body against the link's targetSchema (empty when it conforms). */
  responseProblems(operation: string, body: unknown): string[];
}

type Json = Record<string, unknown>;

export const ROOT_ID = 'heroku-platform-api.json';

export function createHerokuChecker(schema: object, options: HerokuCheckerOptions = {}): ContractChecker {
  return createHerokuContract(schema, options).check;
}

export function createHerokuContract(schema: object, options: HerokuCheckerOptions = {}): HerokuContract {
  const links = indexLinks(schema);
  const byOperation = new Map(links.map((l) => [l.operation, l]));
  let ajv: Ajv | undefined;
  const compiled = new Map<object, ValidateFunction>();

  // Compiling the 570 kB schema costs ~1 s, so it waits for the first body to check.
  const validator = (sub: object): ValidateFunction => {
    let fn = compiled.get(sub);
    if (fn) return fn;
    ajv ??= buildAjv(schema);
    fn = ajv.compile(rebase(sub));
    compiled.set(sub, fn);
    return fn;
  };

  const findLinks = (method: string, path: string): HerokuLink[] =>
    links.filter((l) => l.method === method.toUpperCase() && l.regex.test(path));

  const check = (req: FakeRequest): ContractCheck => {
    const passed = options.passThrough?.(req);
    if (passed) return { operation: passed, violations: [] };

    const accept = versionProblem(req.headers.accept);
    if (accept) return { violations: [accept.problem], reject: accept.reject };

    const candidates = findLinks(req.method, req.path).sort((a, b) => a.templated - b.templated);
    if (candidates.length === 0) {
      return {
        violations: [`no link in the schema for ${req.method} ${req.path}`],
        reject: herokuError(
          404,
          'not_found',
          'The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?',
        ),
      };
    }

    const auth = authProblem(req.headers.authorization, options.acceptKey);
    if (auth)
      return { operation: candidates[0]!.operation, violations: auth.violations, reject: auth.reject };

    if (req.body.length > 0 && req.json === undefined) {
      return {
        operation: candidates[0]!.operation,
        violations: ['request body is not JSON'],
        reject: herokuError(400, 'bad_request', 'Invalid JSON in request body.'),
      };
    }

    const withSchema = candidates.filter((l) => l.schema);
    if (withSchema.length === 0) return { operation: candidates[0]!.operation, violations: [] };
    const body = req.json ?? {};
    let first: string[] | undefined;
    for (const link of withSchema) {
      const validate = validator(link.schema!);
      if (validate(body)) return { operation: link.operation, violations: [] };
      first ??= (validate.errors ?? []).map(
        (e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`,
      );
    }
    const problems = first ?? [];
    return {
      operation: withSchema[0]!.operation,
      violations: problems,
      reject: herokuError(422, 'invalid_params', `Invalid params: ${problems.join('; ')}`),
    };
  };

  const responseProblems = (operation: string, body: unknown): string[] => {
    const link = byOperation.get(operation);
    if (!link) return [`unknown operation ${operation}`];
    if (!link.targetSchema) return [];
    const validate = validator(link.targetSchema);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`);
  };

  return { check, findLinks, responseProblems };
}

export function herokuError(status: number, id: string, message: string, extra: Json = {}): FakeResponse {
  return { status, json: { id, message, ...extra } };
}

function versionProblem(accept: string | undefined): { problem: string; reject: FakeResponse } | undefined {
  const media = (accept ?? '')
    .split(',')
    .map((part) => part.trim())
    .find((part) => part.toLowerCase().startsWith('application/vnd.heroku+json'));
  const version = media && /;\s*version=([^;\s]+)/i.exec(media)?.[1];
  if (!version) {
    // Heroku's real answer: 400 with `error`, not `message` (seen in client bug reports).
    return {
      problem: `Accept header lacks a version: ${accept ?? '(none)'}`,
      reject: {
        status: 400,
        json: {
          id: 'missing_version',
          error:
            "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.\n",
        },
      },
    };
  }
  if (version !== '3' && !version.startsWith('3.')) {
    return {
      problem: `Accept header asks for version ${version}`,
      reject: herokuError(
        406,
        'not_acceptable',
        'Request failed, set Accept: application/vnd.heroku+json; version=3 header and try again.',
      ),
    };
  }
  return undefined;
}

function authProblem(
  header: string | undefined,
  acceptKey: ((key: string) => boolean) | undefined,
): { violations: string[]; reject: FakeResponse } | undefined {
  const key = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!key) {
    return {
      violations: [header ? 'Authorization is not `Bearer <key>`' : 'no Authorization header'],
      reject: herokuError(
        401,
        'unauthorized',
        'There were no credentials in your `Authorization` header. Try `Authorization: Bearer <api-key>`.',
      ),
    };
  }
  if (acceptKey && !acceptKey(key)) {
    return { violations: [], reject: herokuError(401, 'unauthorized', 'Invalid credentials provided.') };
  }
  return undefined;
}

function indexLinks(schema: object): HerokuLink[] {
  const definitions = (schema as { definitions?: Record<string, { links?: Json[] }> }).definitions ?? {};
  const out: HerokuLink[] = [];
  for (const [resource, definition] of Object.entries(definitions)) {
    for (const link of definition.links ?? []) {
      const href = String(link.href);
      const segments = href.split('/');
      const templated = segments.filter((s) => s.startsWith('{')).length;
      const source = segments
        .map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      const title = String(link.title ?? link.rel ?? 'link')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
      out.push({
        operation: `${resource}.${title}`,
        resource,
        method: String(link.method).toUpperCase(),
        href,
        schema: link.schema as object | undefined,
        targetSchema: link.targetSchema as object | undefined,
        regex: new RegExp(`^${source}$`),
        templated,
      });
    }
  }
  return out;
}

function buildAjv(schema: object): Ajv {
  const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true, validateSchema: false });
  formats.default(ajv, ['uuid', 'date-time', 'date', 'email', 'ipv4']);
  // Heroku marks hostnames (`subdomain.example.com`) as `format: uri`; the API accepts them.
  ajv.addFormat('uri', true);
  ajv.addSchema(clean(schema) as object, ROOT_ID);
  return ajv;
}

/** Drops what Ajv trips over or must not see (SOURCES.md §1) and fixes the two dangling refs. */
function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'example' || key === 'links' || key === '$schema') continue;
    if (key === 'id' && typeof value === 'string') continue;
    if (key === '$ref' && typeof value === 'string') {
      out[key] = value.replace('#/definitions/dyno_size/', '#/definitions/dyno-size/');
      continue;
    }
    out[key] = clean(value);
  }
  return out;
}

/** A link's schema points at `#/definitions/...` of the root; compiled alone it must name the root. */
function rebase(sub: object): object {
  const text = JSON.stringify(clean(sub)).replaceAll('"$ref":"#/', `"$ref":"${ROOT_ID}#/`);
  return JSON.parse(text) as object;
}
