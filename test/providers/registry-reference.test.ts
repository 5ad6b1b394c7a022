import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registryBaseUrl } from '../../src/providers/registry/distribution.ts';
import {
  formatImageReference,
  type ImageReference,
  parseImageReference,
  readImageReference,
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
    // normalize.go splitDockerDomain: a first component with an uppercase letter, or `localhost`, is a host.
    ['LOCALHOST/x', ref('LOCALHOST', 'x')],
    ['Registry/x:1', ref('Registry', 'x', '1')],
    ['localhost/x', ref('localhost', 'x')],
    ['[::1]:5000/x', ref('[::1]:5000', 'x')],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });

  it.each([['NGINX'], ['nginx:'], ['nginx@sha256:zz'], ['/nginx'], ['a//b'], ['']])('refuses %j', (input) => {
    expect(parseImageReference(input)).toBeUndefined();
  });

  // Each refusal says why, as Docker (distribution/reference, opencontainers/go-digest) would refuse it.
  const DIGEST_RULE = /sha256: followed by exactly 64 lowercase hex digits/;
  it.each<[string, RegExp]>([
    [`ghcr.io/shop/app@sha256:${'c'.repeat(40)}`, DIGEST_RULE],
    [`ghcr.io/shop/app@sha256:${'C'.repeat(64)}`, DIGEST_RULE],
    [`ghcr.io/shop/app@sha256:${'c'.repeat(65)}`, DIGEST_RULE],
    [`ghcr.io/shop/app@sha512:${'c'.repeat(128)}`, DIGEST_RULE],
    ['ghcr.io/shop/app@sha256:', DIGEST_RULE],
    ['ghcr.io/Shop/App:1', /repository names must be lowercase/],
    ['NGINX', /repository names must be lowercase/],
    ['docker.io/Library/nginx', /repository names must be lowercase/],
    ['-bad-.com/x', /registry host "-bad-\.com"/],
    ['bad-.com/x', /registry host/],
    ['a..b/x', /registry host/],
    [`ghcr.io/${'a'.repeat(250)}`, /longer than 255/],
    ['nginx:-1', /tag must be/],
    ['a//b', /each \/-separated part/],
    ['ab'.repeat(32), /image id/],
  ])('refuses %j: %s', (input, why) => {
    const read = readImageReference(input);
    expect(typeof read).toBe('string');
    expect(read).toMatch(why);
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

describe('refusals, for any reference', () => {
  it('a sha256 digest other than exactly 64 lowercase hex digits is refused', () => {
    const badHex = fc.oneof(
      fc.stringMatching(/^[a-fA-F0-9]{32,100}$/).filter((h) => !/^[a-f0-9]{64}$/.test(h)),
      fc
        .stringMatching(/^[a-f0-9]{64}$/)
        .map((h) => h.replace(/[a-f]/, (c) => c.toUpperCase()))
        .filter((h) => /[A-F]/.test(h)),
    );
    fc.assert(
      fc.property(references, badHex, (r, hex) => {
        const name = r.text.replace(/@.*$/, '');
        expect(readImageReference(`${name}@sha256:${hex}`)).toMatch(/exactly 64 lowercase hex/);
      }),
    );
  });

  it('a name longer than 255 characters is refused, one within is read', () => {
    fc.assert(
      fc.property(fc.array(component, { minLength: 1, maxLength: 40 }), (parts) => {
        const name = `ghcr.io/${parts.join('/')}`;
        const read = readImageReference(`${name}:v1`);
        if (name.length > 255) expect(read).toMatch(/longer than 255/);
        else expect(typeof read).toBe('object');
      }),
    );
  });

  it('a repository with an uppercase letter is refused as not lowercase', () => {
    fc.assert(
      fc.property(references, fc.nat(), (r, at) => {
        const path = r.path.join('/');
        const letters = [...path].flatMap((c, i) => (/[a-z]/.test(c) ? [i] : []));
        if (letters.length === 0) return;
        const i = letters[at % letters.length]!;
        const upper = `${path.slice(0, i)}${path[i]!.toUpperCase()}${path.slice(i + 1)}`;
        // On Docker Hub an uppercase first component of two or more would be a host instead.
        const registry = r.registry === '' && r.path.length > 1 ? 'docker.io/' : r.registry;
        expect(readImageReference(`${registry}${upper}:v1`)).toMatch(/must be lowercase/);
      }),
    );
  });
});
