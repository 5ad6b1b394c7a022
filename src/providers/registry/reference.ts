/**
 * Image references as Docker reads them: `[registry/]repository[:tag][@digest]`,
 * with Docker Hub's defaults (`docker.io`, `library/`) for short names.
 *
 * Docker Hub answers to several names, and they are one registry:
 * distribution/reference `normalize.go` rewrites `index.docker.io` (its
 * legacyDefaultDomain) to `docker.io`, google/go-containerregistry
 * `pkg/name/registry.go` treats `docker.io` and `index.docker.io` alike, and
 * both put one-component names under `library/` (`pkg/name/repository.go`:
 * defaultNamespace). `registry-1.docker.io` is the host the API is served from
 * (Docker's DefaultV2Registry), so a reference naming it is Docker Hub too.
 * Every alias becomes `docker.io` here; `registryBaseUrl` maps that to the API host.
 */

export interface ImageReference {
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const DOMAIN = /^(?:localhost|\[[0-9a-fA-F:]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::\d+)?$/;

/** Docker Hub as image references name it after normalisation. */
export const DOCKER_HUB = 'docker.io';
/** The host Docker Hub's registry API is served from. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);

/** Parses and normalises a reference (Docker Hub aliases to `docker.io`, `library/` for official images); undefined when malformed. */
export function parseImageReference(value: string): ImageReference | undefined {
  let rest = value.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  ) {
    if (!DOMAIN.test(first)) return undefined;
    registry = DOCKER_HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first;
    parts.shift();
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) return undefined;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), tag, digest };
}

/** The normalised form `registry/repository:tag` or `registry/repository[:tag]@digest`; normalising it again changes nothing. */
export function formatImageReference(ref: ImageReference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${name}${ref.tag ? `:${ref.tag}` : ''}@${ref.digest}`;
  return `${name}:${ref.tag ?? 'latest'}`;
}

/** Registries Docker talks to over plain HTTP: only loopback ones. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return (
    host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
