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

// distribution/reference regexp.go: path components, domain name components, tag.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
/** opencontainers/go-digest: sha256 is exactly 64 lowercase hex digits (the only algorithm registries are asked for here). */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
// distribution/reference: NameTotalLengthMax, of the name as written (registry and repository).
const NAME_MAX = 255;

/** Docker Hub as image references name it after normalisation. */
export const DOCKER_HUB = 'docker.io';
/** The host Docker Hub's registry API is served from. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);

/** Parses and normalises a reference (Docker Hub aliases to `docker.io`, `library/` for official images); undefined when malformed. */
export function parseImageReference(value: string): ImageReference | undefined {
  const read = readImageReference(value);
  return typeof read === 'string' ? undefined : read;
}

/**
 * Like `parseImageReference`, but a malformed reference gives the reason, in
 * the words of distribution/reference (reference.go, normalize.go) and
 * opencontainers/go-digest, for an input error.
 */
export function readImageReference(value: string): ImageReference | string {
  let rest = value.trim();
  if (/^[a-f0-9]{64}$/.test(rest)) return 'a 64-character hex string is an image id, not a reference';
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest))
      return 'the digest after @ must be sha256: followed by exactly 64 lowercase hex digits';
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return 'the tag must be 1 to 128 letters, digits, _ . or -, not starting with . or -';
  }
  if (rest.length > NAME_MAX) return `the name is longer than ${NAME_MAX} characters`;
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  // normalize.go splitDockerDomain: a first component is a registry host when it has a `.` or `:`,
  // is `localhost`, or has an uppercase letter (a repository name never does).
  if (parts.length > 1 && (/[.:A-Z]/.test(first) || first === 'localhost' || first.startsWith('['))) {
    if (!DOMAIN.test(first))
      return `the registry host ${JSON.stringify(first)} must be a host name (letters, digits, inner -, dots) with an optional :port`;
    registry = DOCKER_HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first;
    parts.shift();
  }
  if (parts.some((p) => p.toLowerCase() !== p && COMPONENT.test(p.toLowerCase())))
    return 'repository names must be lowercase';
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p)))
    return 'each /-separated part of the repository must be lowercase letters and digits, separated by . _ __ or -';
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
  const host = registry.toLowerCase().replace(/:\d+$/, '');
  return (
    host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
