import { HttpClient } from '../../core/http.ts';

/** The GitHub REST client every GitHub resource module shares. */
export function createGitHubClient(options: {
  apiUrl: string;
  token: string;
  redact: (text: string) => string;
  signal?: AbortSignal;
}): HttpClient {
  return new HttpClient({
    provider: 'GitHub',
    baseUrl: options.apiUrl,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${options.token}`,
      'x-github-api-version': '2022-11-28',
    },
    redact: options.redact,
    signal: options.signal,
  });
}

/** `owner/repo` from GITHUB_REPOSITORY, split for the REST paths. */
export function repoPath(repository: string): string {
  const [owner, repo] = repository.split('/');
  if (!owner || !repo)
    throw new Error(`GITHUB_REPOSITORY must be owner/repo, got ${JSON.stringify(repository)}`);
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
}
