import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ContractCheck, ContractChecker, FakeRequest, FakeResponse } from '../fake-server.ts';

/**
 * Checks each request a fake receives against an OpenAPI 3 document: path template, method,
 * credentials, parameters and JSON body. Schemas compile on first use, so a fake starts fast.
 */

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON
type Json = any;

export type ProblemKind =
  | 'unknown-path'
  | 'method-not-allowed'
  | 'unauthenticated'
  | 'bad-credentials'
  | 'invalid-request';

export interface ContractProblem {
  kind: ProblemKind;
  operation: string | undefined;
  /** Human-readable problems; empty for `bad-credentials`, which the contract allows. */
  violations: string[];
  /** Parameter or body field names that failed, for providers that list fields. */
  fields: string[];
}

export interface SecurityScheme {
  type: 'http' | 'apiKey' | 'oauth2' | 'openIdConnect';
  scheme?: string;
  in?: 'header' | 'query' | 'cookie';
  name?: string;
}

export interface OpenApiCheckerOptions {
  /** Path the fake is mounted under, before the server URL's own path. */
  basePath?: string;
  /** Replaces the document's security requirements, for documents that under-declare auth. */
  security?: Record<string, string[]>[];
  /** Schemes added to `components.securitySchemes`, for documents that declare none. */
  securitySchemes?: Record<string, SecurityScheme>;
  /** Whether a present credential is the right one; a wrong one is refused but is no contract violation. */
  acceptsCredentials?: (req: FakeRequest) => boolean;
  /** The provider's own answer to a refused request. */
  reject: (problem: ContractProblem, req: FakeRequest) => FakeResponse;
  /** Properties the server assigns though the document forgets `readOnly`; not required in requests. */
  serverAssigned?: string[];
  /** DigitalOcean's patterns need `unicodeRegExp: false`. */
  ajv?: Options;
}

interface Operation {
  id: string;
  method: string;
  template: string;
  pointer: string;
  regex: RegExp;
  keys: string[];
  literalSegments: number;
}

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schemaPointer: string | undefined;
  namePattern: RegExp | undefined;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function readOpenApiDocument(url: URL): Json {
  return JSON.parse(readFileSync(url, 'utf8'));
}

export function createOpenApiChecker(doc: Json, options: OpenApiCheckerOptions): ContractChecker {
  const operations = indexOperations(doc, options.basePath ?? '');
  const schemes: Record<string, SecurityScheme> = {
    ...doc.components?.securitySchemes,
    ...options.securitySchemes,
  };
  const compiler = lazyCompiler(doc, options.ajv ?? {}, options.serverAssigned ?? []);

  return (req) => {
    const onPath = operations.filter((op) => op.regex.test(req.path));
    if (onPath.length === 0) {
      return refuse(options, req, 'unknown-path', undefined, [`no path in the contract matches ${req.path}`]);
    }
    const op = onPath.filter((o) => o.method === req.method).sort(bySpecificity)[0];
    if (!op) {
      const allowed = [...new Set(onPath.map((o) => o.method))].join(', ');
      return refuse(options, req, 'method-not-allowed', undefined, [
        `${req.method} is not an operation on ${req.path} (allowed: ${allowed})`,
      ]);
    }
    const opDoc = pointerGet(doc, op.pointer);
    const requirements: Record<string, string[]>[] = options.security ?? opDoc.security ?? doc.security ?? [];
    const missing = missingCredentials(requirements, schemes, req);
    if (missing) return refuse(options, req, 'unauthenticated', op.id, [missing]);
    if (requirements.length > 0 && options.acceptsCredentials && !options.acceptsCredentials(req)) {
      return {
        operation: op.id,
        violations: [],
        reject: options.reject(problem('bad-credentials', op.id), req),
      };
    }

    const fields: string[] = [];
    const refusing: string[] = [];
    const advisory: string[] = [];
    const pathValues = pathParams(op, req.path);
    for (const param of parameters(doc, op)) {
      checkParameter(param, req, pathValues, compiler, refusing, advisory, fields);
    }
    advisory.push(...unknownQueryParams(doc, op, req));
    checkBody(doc, op, req, compiler, refusing, advisory, fields);
    if (refusing.length > 0) {
      const found: ContractProblem = {
        kind: 'invalid-request',
        operation: op.id,
        violations: refusing,
        fields,
      };
      return { operation: op.id, violations: [...refusing, ...advisory], reject: options.reject(found, req) };
    }
    return { operation: op.id, violations: advisory };
  };
}

function problem(
  kind: ProblemKind,
  operation: string | undefined,
  violations: string[] = [],
): ContractProblem {
  return { kind, operation, violations, fields: [] };
}

function refuse(
  options: OpenApiCheckerOptions,
  req: FakeRequest,
  kind: ProblemKind,
  operation: string | undefined,
  violations: string[],
): ContractCheck {
  return { operation, violations, reject: options.reject(problem(kind, operation, violations), req) };
}

function indexOperations(doc: Json, basePath: string): Operation[] {
  const out: Operation[] = [];
  for (const [template, item] of Object.entries<Json>(doc.paths ?? {})) {
    const servers: Json[] = item.servers ?? doc.servers ?? [{ url: '/' }];
    const prefixes = [...new Set(servers.map((s) => serverPath(s.url)))];
    for (const method of METHODS) {
      const opDoc = item[method];
      if (!opDoc) continue;
      for (const prefix of prefixes) {
        const keys: string[] = [];
        const full = `${trimSlash(basePath)}${prefix}${template}`;
        const source = full
          .split('/')
          .map((segment) =>
            segment.replace(
              /\{([^}]+)\}|([^{]+)/g,
              (_m, key: string | undefined, literal: string | undefined) => {
                if (key === undefined) return escapeRegex(literal ?? '');
                keys.push(key);
                return '([^/]+)';
              },
            ),
          )
          .join('/');
        out.push({
          id: opDoc.operationId ?? `${method.toUpperCase()} ${template}`,
          method: method.toUpperCase(),
          template: full,
          pointer: `/paths/${escapePointer(template)}/${method}`,
          regex: new RegExp(`^${source}/?$`),
          keys,
          literalSegments: template.split('/').filter((s) => s && !s.includes('{')).length,
        });
      }
    }
  }
  return out;
}

function bySpecificity(a: Operation, b: Operation): number {
  return b.literalSegments - a.literalSegments;
}

function serverPath(url: string): string {
  return trimSlash(new URL(url, 'http://server.invalid').pathname);
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointerGet(doc: Json, pointer: string): Json {
  let node = doc;
  for (const part of pointer.split('/').slice(1)) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/** Follows OpenAPI-level `$ref`s (parameters, requestBodies) and keeps the pointer of the target. */
function follow(doc: Json, pointer: string): { value: Json; pointer: string } {
  let at = pointer;
  let value = pointerGet(doc, at);
  for (let hops = 0; value?.$ref && hops < 10; hops++) {
    at = String(value.$ref).replace(/^#/, '');
    value = pointerGet(doc, at);
  }
  return { value, pointer: at };
}

function missingCredentials(
  requirements: Record<string, string[]>[],
  schemes: Record<string, SecurityScheme>,
  req: FakeRequest,
): string | undefined {
  if (requirements.length === 0) return undefined;
  const satisfied = requirements.some((alternative) =>
    Object.keys(alternative).every((name) => hasCredential(schemes[name], req)),
  );
  if (satisfied) return undefined;
  const wanted = requirements.map((alt) =>
    Object.keys(alt)
      .map((n) => describeScheme(n, schemes[n]))
      .join(' + '),
  );
  return `missing credentials: expected ${wanted.join(' or ')}`;
}

function hasCredential(scheme: SecurityScheme | undefined, req: FakeRequest): boolean {
  if (!scheme) return false;
  if (scheme.type === 'http') {
    const prefix = `${scheme.scheme ?? 'bearer'} `.toLowerCase();
    const value = req.headers.authorization ?? '';
    return value.toLowerCase().startsWith(prefix) && value.length > prefix.length;
  }
  if (scheme.type === 'apiKey' && scheme.name) {
    if (scheme.in === 'query') return Boolean(req.query.get(scheme.name));
    if (scheme.in === 'header') return Boolean(req.headers[scheme.name.toLowerCase()]);
  }
  if (scheme.type === 'oauth2' || scheme.type === 'openIdConnect') return Boolean(req.headers.authorization);
  return false;
}

function describeScheme(name: string, scheme: SecurityScheme | undefined): string {
  if (scheme?.type === 'http') return `Authorization: ${scheme.scheme ?? 'bearer'} <token>`;
  if (scheme?.type === 'apiKey') return `${scheme.in} ${scheme.name}`;
  return name;
}

function pathParams(op: Operation, path: string): Record<string, string> {
  const match = op.regex.exec(path);
  const values: Record<string, string> = {};
  op.keys.forEach((key, i) => {
    values[key] = match?.[i + 1] ?? '';
  });
  return values;
}

function parameters(doc: Json, op: Operation): Parameter[] {
  const itemPointer = op.pointer.replace(/\/[a-z]+$/, '');
  const collect = (pointer: string): Parameter[] =>
    (pointerGet(doc, pointer) ?? []).map((_p: Json, i: number) => {
      const { value, pointer: at } = follow(doc, `${pointer}/${i}`);
      return {
        name: value.name,
        in: value.in,
        required: Boolean(value.required),
        schemaPointer: value.schema ? `${at}/schema` : undefined,
        namePattern: templateName(value.name),
      };
    });
  const own = collect(`${op.pointer}/parameters`);
  const shared = collect(`${itemPointer}/parameters`).filter(
    (p) => !own.some((o) => o.name === p.name && o.in === p.in),
  );
  return [...own, ...shared];
}

/** Fly's `metadata.{key}` names a family of query parameters. */
function templateName(name: string): RegExp | undefined {
  if (!name.includes('{')) return undefined;
  return new RegExp(
    `^${name
      .split(/\{[^}]+\}/)
      .map(escapeRegex)
      .join('.+')}$`,
  );
}

function checkParameter(
  param: Parameter,
  req: FakeRequest,
  pathValues: Record<string, string>,
  compiler: LazyCompiler,
  refusing: string[],
  advisory: string[],
  fields: string[],
): void {
  const values = parameterValues(param, req, pathValues);
  if (values.length === 0) {
    if (param.required) {
      refusing.push(`missing required ${param.in} parameter ${param.name}`);
      fields.push(param.name);
    }
    return;
  }
  if (!param.schemaPointer) return;
  const validate = compiler.coercing(param.schemaPointer);
  const schema = compiler.schemaAt(param.schemaPointer);
  for (const [name, raw] of values) {
    // Fly's wait `state` is an enum that the API also takes comma-separated.
    const parts = schema?.enum && raw.includes(',') ? raw.split(',') : [raw];
    for (const part of parts) {
      if (!validate({ value: schema?.type === 'array' ? part.split(',') : part })) {
        refusing.push(
          `${param.in} parameter ${name}=${JSON.stringify(raw)}: ${describeErrors(validate.errors)}`,
        );
        fields.push(name);
      }
    }
  }
  if (param.in === 'query' && values.length > 1 && schema?.type !== 'array') {
    advisory.push(`query parameter ${param.name} given ${values.length} times`);
  }
}

function parameterValues(
  param: Parameter,
  req: FakeRequest,
  pathValues: Record<string, string>,
): [string, string][] {
  if (param.in === 'path') {
    const value = pathValues[param.name];
    return value ? [[param.name, safeDecode(value)]] : [];
  }
  if (param.in === 'header') {
    const value = req.headers[param.name.toLowerCase()];
    return value === undefined ? [] : [[param.name, value]];
  }
  if (param.in === 'query') {
    return [...req.query.entries()].filter(([name]) =>
      param.namePattern ? param.namePattern.test(name) : name === param.name,
    );
  }
  return [];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function unknownQueryParams(doc: Json, op: Operation, req: FakeRequest): string[] {
  const known = parameters(doc, op).filter((p) => p.in === 'query');
  const unknown = [...new Set(req.query.keys())].filter(
    (name) => !known.some((p) => (p.namePattern ? p.namePattern.test(name) : p.name === name)),
  );
  return unknown.map((name) => `query parameter ${name} is not in the contract of ${op.id}`);
}

function checkBody(
  doc: Json,
  op: Operation,
  req: FakeRequest,
  compiler: LazyCompiler,
  refusing: string[],
  advisory: string[],
  fields: string[],
): void {
  const opDoc = pointerGet(doc, op.pointer);
  if (!opDoc.requestBody) return;
  const { value: body, pointer } = follow(doc, `${op.pointer}/requestBody`);
  const mediaType = Object.keys(body.content ?? {}).find((t) => t.includes('json'));
  if (req.body.length === 0) {
    // Cloudflare's DELETE declares a required body without a schema; the API takes none.
    const constrained = !mediaType || body.content[mediaType]?.schema !== undefined;
    if (body.required && constrained) refusing.push(`${op.id} requires a request body`);
    return;
  }
  if (!mediaType) return;
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.includes('json')) {
    advisory.push(`request body sent as ${contentType || 'no content-type'}, contract wants ${mediaType}`);
  }
  if (req.json === undefined) {
    refusing.push('request body is not valid JSON');
    return;
  }
  const schemaPointer = `${pointer}/content/${escapePointer(mediaType)}/schema`;
  if (!compiler.schemaAt(schemaPointer)) return;
  const validate = compiler.strict(schemaPointer);
  if (!validate(structuredClone(req.json))) {
    for (const error of validate.errors ?? []) {
      refusing.push(`body${error.instancePath || ''} ${error.message ?? 'is invalid'}${paramsNote(error)}`);
      const field =
        error.instancePath.split('/')[1] ?? (error.params as { missingProperty?: string }).missingProperty;
      if (field) fields.push(field);
    }
  }
}

function paramsNote(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (params.allowedValues) return ` (${(params.allowedValues as unknown[]).join(', ')})`;
  if (params.additionalProperty) return ` (${String(params.additionalProperty)})`;
  return '';
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.message ?? 'invalid'}${paramsNote(e)}`).join('; ');
}

interface LazyCompiler {
  strict(pointer: string): ValidateFunction;
  coercing(pointer: string): ValidateFunction;
  schemaAt(pointer: string): Json;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function lazyCompiler(doc: Json, ajvOptions: Options, serverAssigned: string[]): LazyCompiler {
  let plain: Ajv | undefined;
  let coerce: Ajv | undefined;
  const cache = new Map<string, ValidateFunction>();
  const make = (extra: Options, schemaDoc: Json): Ajv => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, ...ajvOptions, ...extra });
    addFormats(ajv);
    ajv.addSchema(schemaDoc, 'openapi');
    return ajv;
  };
  const compile = (kind: 'strict' | 'coerce', pointer: string): ValidateFunction => {
    const key = `${kind} ${pointer}`;
    let validate = cache.get(key);
    if (!validate) {
      if (kind === 'strict') plain ??= make({}, requestView(doc, serverAssigned));
      else coerce ??= make({ coerceTypes: 'array' }, doc);
      const ajv = (kind === 'strict' ? plain : coerce)!;
      const ref = `openapi#${pointer.split('/').map(encodeURIComponent).join('/')}`;
      // Parameters travel wrapped in an object: Ajv coerces a value only in place inside its parent.
      validate = ajv.compile(
        kind === 'strict' ? { $ref: ref } : { type: 'object', properties: { value: { $ref: ref } } },
      );
      cache.set(key, validate);
    }
    return validate;
  };
  return {
    strict: (pointer) => compile('strict', pointer),
    coercing: (pointer) => compile('coerce', pointer),
    schemaAt: (pointer) => follow(doc, pointer).value,
  };
}

/**
 * OpenAPI exempts `readOnly` properties from `required` in requests (Cloudflare's record schemas
 * require `id` and `created_on`). Names declared readOnly anywhere are dropped from `required`:
 * coarse, but these documents never make a name readOnly in one schema and writable in another.
 */
function requestView(doc: Json, serverAssigned: string[]): Json {
  const view = structuredClone(doc);
  const readOnly = new Set<string>(serverAssigned);
  const isReadOnly = (schema: Json): boolean => {
    let node = schema;
    for (let hops = 0; node?.$ref && !node.readOnly && hops < 10; hops++)
      node = pointerGet(view, String(node.$ref).slice(1));
    return Boolean(schema?.readOnly || node?.readOnly);
  };
  const visit = (node: Json, collect: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (collect && node.properties && typeof node.properties === 'object') {
      for (const [name, schema] of Object.entries<Json>(node.properties))
        if (isReadOnly(schema)) readOnly.add(name);
    }
    if (!collect && Array.isArray(node.required))
      node.required = node.required.filter((n: string) => !readOnly.has(n));
    for (const value of Object.values(node)) visit(value, collect);
  };
  visit(view, true);
  visit(view, false);
  return view;
}
