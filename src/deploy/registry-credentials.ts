import { InputError } from '../core/errors.ts';
import type { InputReader } from '../core/inputs.ts';
import type { SecretValue } from '../core/secrets.ts';
import type { RegistryCredentials } from '../providers/registry/distribution.ts';

/** GitHub's container registry: the only host the workflow's GitHub token is for. */
export const GITHUB_REGISTRY = 'ghcr.io';
/** Fly's registry: it takes the Fly API token as password with the user name `x`. */
export const FLY_REGISTRY = 'registry.fly.io';

/** Every credential a deploy may hold for registries; which one a host gets is `credentialsFor`'s choice. */
export interface RegistryCredentialSources {
  /** `registry-username` + `registry-password`: what the user chose, for the image's registry. */
  given: RegistryCredentials | undefined;
  /** `github-token` with the actor (`GITHUB_ACTOR`) as user name; only ever sent to ghcr.io. */
  github: RegistryCredentials | undefined;
  /** `fly-api-token`; only ever sent to registry.fly.io. */
  flyToken: string | undefined;
}

/**
 * Reads the registry credentials from the inputs: `registry-username` and
 * `registry-password` (both or neither; InputError otherwise), `github-token`
 * with `GITHUB_ACTOR`, and `fly-api-token`.
 */
export function registrySources(inputs: InputReader, env: NodeJS.ProcessEnv): RegistryCredentialSources {
  const username = inputs.optional('registry-username');
  const password = inputs.optional('registry-password');
  if ((username === undefined) !== (password === undefined)) {
    throw new InputError(
      username ? 'registry-password' : 'registry-username',
      'must be given together with the other',
    );
  }
  const githubToken = inputs.optional('github-token');
  const flyToken = inputs.optional('fly-api-token');
  return {
    given: username && password ? { username, password } : undefined,
    // GitHub's docs log in to ghcr.io with the actor and GITHUB_TOKEN; any non-empty user name is accepted.
    github: githubToken
      ? { username: env.GITHUB_ACTOR || 'x-access-token', password: githubToken }
      : undefined,
    flyToken,
  };
}

/** Which input a registry's refusal points at, for the error message. */
export type CredentialSource = 'registry-password' | 'github-token' | 'fly-api-token';

export interface ChosenCredentials {
  credentials: RegistryCredentials;
  source: CredentialSource;
}

/**
 * The credentials sent to registry `host` (as an image reference names it,
 * `ghcr.io`, `127.0.0.1:5000`), or undefined for an anonymous pull.
 *
 * - The user's `registry-username`/`registry-password` win wherever the image lives.
 * - Otherwise ghcr.io gets the GitHub token (user name: the actor), and
 *   registry.fly.io the Fly API token with user name `x`, as `fly auth docker`
 *   logs Docker in (superfly/flyctl internal/command/auth/docker.go:
 *   `docker login --username=x --password-stdin registry.fly.io` with the access
 *   token; https://fly.io/docs/flyctl/auth-docker/).
 * - Any other host gets nothing: the GitHub token, which can write packages,
 *   and the Fly token never leave for a registry they were not made for.
 */
export function credentialsFor(
  host: string,
  sources: RegistryCredentialSources,
): ChosenCredentials | undefined {
  if (sources.given) return { credentials: sources.given, source: 'registry-password' };
  const name = host.toLowerCase();
  if (name === GITHUB_REGISTRY && sources.github)
    return { credentials: sources.github, source: 'github-token' };
  if (name === FLY_REGISTRY && sources.flyToken)
    return { credentials: { username: 'x', password: sources.flyToken }, source: 'fly-api-token' };
  return undefined;
}

/**
 * Each credential pair's password, spelled too as `user:password` in base64, as
 * Basic auth and `docker login` carry it: the password goes to the runner's
 * masks, the base64 only to our redactor (`SecretValue`).
 */
export function basicForms(sources: RegistryCredentialSources): SecretValue[] {
  const pairs = [
    sources.given,
    sources.github,
    sources.flyToken ? { username: 'x', password: sources.flyToken } : undefined,
  ];
  return pairs.flatMap((p) =>
    p
      ? [{ value: p.password, spellings: [Buffer.from(`${p.username}:${p.password}`).toString('base64')] }]
      : [],
  );
}
