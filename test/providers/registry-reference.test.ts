import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registryBaseUrl } from '../../src/providers/registry/distribution.ts';
import {
  formatImageReference,
  type ImageReference,
  parseImageReference,
} from '../../src/providers/registry/reference.ts';

/**
 * Image references as Docker and go-containerregistry read them: Docker Hub's
 * aliases are one registry, one-component names live under `library/`
 * (distribution/reference normalize.go; google/go-containerregistry pkg/name).
 */

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const ref = (registry: string, repository: string, tag?: string, digest?: string): ImageReference => ({
  registry,
  repository,
  tag,
  digest,
});

describe('parseImageReference normalises', () => {
  it.each([
    ['nginx', ref('docker.io', 'library/nginx')],
    ['nginx:1.27', ref('docker.io', 'library/nginx', '1.27')],
    ['docker.io/nginx', ref('docker.io', 'library/nginx')],
    ['index.docker.io/nginx', ref('docker.io', 'library/nginx')],
    ['registry-1.docker.io/nginx', ref('docker.io', 'library/nginx')],
    ['Index.Docker.io/nginx:latest', ref('docker.io', 'library/nginx', 'latest')],
    ['docker.io/library/nginx', ref('docker.io', 'library/nginx')],
    ['index.docker.io/library/nginx:1', ref('docker.io', 'library/nginx', '1')],
    ['acme/web', ref('docker.io', 'acme/web')],
    ['index.docker.io/acme/web:2', ref('docker.io', 'acme/web', '2')],
    ['registry-1.docker.io/acme/web@' + DIGEST, ref('docker.io', 'acme/web', undefined, DIGEST)],
    [`nginx:1.27@${DIGEST}`, ref('docker.io', 'library/nginx', '1.27', DIGEST)],
    ['ghcr.io/acme/web:v1', ref('ghcr.io', 'acme/web', 'v1')],
    ['ghcr.io/nginx', ref('ghcr.io', 'nginx')],
    ['localhost:5000/nginx', ref('localhost:5000', 'nginx')],
    ['127.0.0.1:5000/a/b/c:t', ref('127.0.0.1:5000', 'a/b/c', 't')],
    ['docker.io.evil.example/nginx', ref('docker.io.evil.example', 'nginx')],
    // fast-check found this one for the generator: a first component with a dot is a host.
    ['a.0/b', ref('a.0', 'b')],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });

  it.each([['NGINX'], ['nginx:'], ['nginx@sha256:zz'], ['/nginx'], ['a//b'], ['']])('refuses %j', (input) => {
    expect(parseImageReference(input)).toBeUndefined();
  });

  it.each([
    ['nginx', 'https://registry-1.docker.io', '/v2/library/nginx/'],
    ['index.docker.io/nginx', 'https://registry-1.docker.io', '/v2/library/nginx/'],
    ['registry-1.docker.io/nginx', 'https://registry-1.docker.io', '/v2/library/nginx/'],
    ['ghcr.io/acme/web', 'https://ghcr.io', '/v2/acme/web/'],
  ])('%s is spoken to at %s%s', (input, base, path) => {
    const parsed = parseImageReference(input)!;
    expect(registryBaseUrl(parsed.registry)).toBe(base);
    expect(`/v2/${parsed.repository}/`).toBe(path);
  });
});

const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)?$/).filter((c) => c.length <= 20);
const firstComponent = fc.stringMatching(/^[a-z0-9]+(?:[_-][a-z0-9]+)?$/).filter((c) => c.length <= 20);
const references = fc
  .record({
    registry: fc.constantFrom(
      '',
      'docker.io/',
      'index.docker.io/',
      'registry-1.docker.io/',
      'INDEX.docker.io/',
      'ghcr.io/',
      'localhost:5000/',
      '127.0.0.1:5000/',
    ),
    // A first component with a dot would be a registry host (Docker's rule): the generator leaves those out.
    path: fc
      .tuple(firstComponent, fc.array(component, { maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest]),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
    digest: fc.option(
      fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
      { nil: undefined },
    ),
  })
  .map((r) => ({
    ...r,
    text: `${r.registry}${r.path.join('/')}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`,
  }));

describe('normalisation, for any reference', () => {
  const normalise = (text: string) => {
    const parsed = parseImageReference(text);
    return parsed ? formatImageReference(parsed) : undefined;
  };

  it('normalising twice is normalising once, and the tag and digest are kept', () => {
    fc.assert(
      fc.property(references, (r) => {
        const once = normalise(r.text);
        expect(once).toBeDefined();
        expect(normalise(once!)).toBe(once);
        const again = parseImageReference(once!)!;
        expect(again.digest).toBe(r.digest);
        // A reference without tag or digest means `latest`, and says so once normalised.
        expect(again.tag).toBe(r.tag ?? (r.digest ? undefined : 'latest'));
        expect(parseImageReference(r.text)!.tag).toBe(r.tag);
      }),
    );
  });

  it('every Docker Hub alias is the same repository as the short name', () => {
    fc.assert(
      fc.property(references, (r) => {
        if (!/^(|docker\.io\/|index\.docker\.io\/|registry-1\.docker\.io\/)$/i.test(r.registry)) return;
        const parsed = parseImageReference(r.text)!;
        const short = parseImageReference(r.text.slice(r.registry.length))!;
        expect(parsed).toEqual(short);
        expect(parsed.registry).toBe('docker.io');
        expect(parsed.repository.split('/').length).toBeGreaterThanOrEqual(2);
      }),
    );
  });
});
