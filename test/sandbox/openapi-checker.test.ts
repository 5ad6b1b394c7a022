import { describe, expect, it } from 'vitest';
import { createOpenApiChecker, readOpenApiDocument } from '../../sandbox/contract/openapi.ts';
import type { FakeRequest } from '../../sandbox/fake-server.ts';

const doc = {
  openapi: '3.0.3',
  servers: [{ url: 'https://api.example.test/v1' }],
  security: [{ bearer: [] }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Thing: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', pattern: '^[a-z]+$' } },
      },
    },
    parameters: { limit: { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 10 } } },
  },
  paths: {
    '/things': {
      get: { operationId: 'list', parameters: [{ $ref: '#/components/parameters/limit' }] },
      post: {
        operationId: 'create',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
        },
      },
    },
    '/things/special': { get: { operationId: 'special' } },
    '/things/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
      get: {
        operationId: 'get',
        parameters: [{ name: 'x-trace', in: 'header', required: true, schema: { type: 'string' } }],
      },
    },
  },
};

function request(
  method: string,
  path: string,
  init: { json?: unknown; headers?: Record<string, string>; query?: string } = {},
): FakeRequest {
  const body = Buffer.from(init.json === undefined ? '' : JSON.stringify(init.json));
  return {
    method,
    path,
    query: new URLSearchParams(init.query ?? ''),
    headers: { authorization: 'Bearer t', 'content-type': 'application/json', ...init.headers },
    body,
    json: init.json,
    params: {},
  };
}

const check = createOpenApiChecker(doc, {
  basePath: '/mounted',
  acceptsCredentials: (req) => req.headers.authorization === 'Bearer t',
  reject: (problem) => ({ status: 499, json: problem }),
});

describe('createOpenApiChecker', () => {
  it('accepts a request that follows the contract, under the server path and the base path', () => {
    expect(check(request('POST', '/mounted/v1/things', { json: { name: 'abc' } }))).toEqual({
      operation: 'create',
      violations: [],
    });
  });

  it('prefers a literal segment over a template', () => {
    expect(check(request('GET', '/mounted/v1/things/special')).operation).toBe('special');
  });

  it.each([
    ['unknown-path', request('GET', '/mounted/v1/nothing')],
    ['unknown-path', request('GET', '/v1/things')],
    ['method-not-allowed', request('DELETE', '/mounted/v1/things')],
    ['unauthenticated', request('GET', '/mounted/v1/things', { headers: { authorization: '' } })],
    ['invalid-request', request('POST', '/mounted/v1/things', { json: { name: 'ABC' } })],
    ['invalid-request', request('POST', '/mounted/v1/things', { json: {} })],
    ['invalid-request', request('POST', '/mounted/v1/things')],
    ['invalid-request', request('GET', '/mounted/v1/things', { query: 'limit=11' })],
    ['invalid-request', request('GET', '/mounted/v1/things/abc', { headers: { 'x-trace': '1' } })],
    ['invalid-request', request('GET', '/mounted/v1/things/5')],
  ])('refuses %s and records why', (kind, req) => {
    const result = check(req);
    expect(result.violations.length).toBeGreaterThan(0);
    expect(result.reject).toMatchObject({ status: 499, json: { kind } });
  });

  it('refuses a wrong credential without calling it a contract violation', () => {
    const result = check(
      request('GET', '/mounted/v1/things', { headers: { authorization: 'Bearer wrong' } }),
    );
    expect(result.violations).toEqual([]);
    expect(result.reject).toMatchObject({ json: { kind: 'bad-credentials' } });
  });

  it('coerces query and path values before checking their types', () => {
    expect(check(request('GET', '/mounted/v1/things', { query: 'limit=3' })).violations).toEqual([]);
    expect(
      check(request('GET', '/mounted/v1/things/42', { headers: { 'x-trace': 'a' } })).violations,
    ).toEqual([]);
  });

  it('records an unknown query parameter but lets the request through, as providers ignore it', () => {
    const result = check(request('GET', '/mounted/v1/things', { query: 'limt=3' }));
    expect(result.reject).toBeUndefined();
    expect(result.violations).toEqual(['query parameter limt is not in the contract of list']);
  });

  it('names the failing fields for providers that list them', () => {
    const result = check(request('POST', '/mounted/v1/things', { json: { name: 7 } }));
    expect(result.reject).toMatchObject({ json: { fields: ['name'] } });
  });

  it('builds checkers for all five contracts fast, compiling schemas only on use', () => {
    const started = performance.now();
    for (const file of [
      'fly/machines',
      'hetzner/cloud-zones',
      'cloudflare/dns-records',
      'digitalocean/droplets',
      'github/deployments',
    ]) {
      const contract = readOpenApiDocument(
        new URL(`../../sandbox/contracts/${file}.openapi.json`, import.meta.url),
      );
      createOpenApiChecker(contract, { reject: () => ({ status: 400 }), ajv: { unicodeRegExp: false } });
    }
    expect(performance.now() - started).toBeLessThan(300);
  });
});
