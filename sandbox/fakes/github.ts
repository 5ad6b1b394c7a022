import { createHash, randomBytes } from 'node:crypto';
import { type ContractProblem, createOpenApiChecker, readOpenApiDocument } from '../contract/openapi.ts';
import { type FakeRequest, type FakeResponse, FakeServer, type Fault } from '../fake-server.ts';

/**
 * GitHub REST: deployments, deployment statuses (newest first, earlier successes in the same
 * environment turned inactive) and repository artifacts that tests seed, from this
 * repository's branches or from forks; GitHub's primary and secondary rate limits as faults
 * (`primaryRateLimit`, `secondaryRateLimit`) injected per route and call.
 */

export interface GitHubDeployment {
  id: number;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  original_environment: string;
  description: string | null;
  payload: unknown;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  updated_at: string;
}

export interface GitHubDeploymentStatus {
  id: number;
  deployment_id: number;
  state: string;
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  created_at: string;
}

export interface GitHubArtifact {
  id: number;
  owner: string;
  repo: string;
  name: string;
  size_in_bytes: number;
  expired: boolean;
  created_at: string;
  expires_at: string;
  /**
   * The run that uploaded it, with the fields of the contract's `artifact.workflow_run`
   * (contracts/github/deployments.openapi.json): a pull request from a fork runs in the base
   * repository (`repository_id`) on the fork's code (`head_repository_id`), and its artifacts
   * are listed with the base repository's.
   */
  workflow_run: {
    id: number;
    repository_id: number;
    head_repository_id: number;
    head_branch: string;
    head_sha: string;
  };
}

export interface GitHubFakeOptions {
  token?: string;
  /** `owner/repo` the token can see; others answer 404. */
  repositories?: string[];
  basePath?: string;
}

const DOCS = 'https://docs.github.com/rest';

export function createGitHubFake(options: GitHubFakeOptions = {}) {
  const token = options.token ?? 'github-test-token';
  const repositories = new Set(options.repositories ?? ['octo-org/app']);
  const base = `${options.basePath ?? ''}/repos/:owner/:repo`;
  const state = {
    deployments: [] as GitHubDeployment[],
    statuses: [] as GitHubDeploymentStatus[],
    artifacts: [] as GitHubArtifact[],
    refs: new Map<string, string>(),
    rateLimitRemaining: 5000,
  };
  // Repository ids as GitHub gives them: one number per repository for good (the docs' example is 1296269).
  const repositoryIds = new Map<string, number>();
  const repositoryId = (name: string): number => {
    if (!repositoryIds.has(name)) repositoryIds.set(name, 1296269 + repositoryIds.size);
    return repositoryIds.get(name)!;
  };
  for (const name of repositories) repositoryId(name);
  let nextId = 1;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  // A clock that ticks per event keeps "newest first" orderings stable within one millisecond.
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };

  const server = new FakeServer({
    name: 'github',
    contract: createOpenApiChecker(readOpenApiDocument(contractUrl()), {
      basePath: options.basePath,
      // The description declares no security; these calls need a token (private repositories).
      security: [{ token: [] }],
      securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'Authorization' } },
      acceptsCredentials: (req) =>
        /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1] === token,
      reject: githubReject,
    }),
    decorate: () => {
      state.rateLimitRemaining = Math.max(0, state.rateLimitRemaining - 1);
      return {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': String(state.rateLimitRemaining),
        'x-ratelimit-used': String(5000 - state.rateLimitRemaining),
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
        'x-ratelimit-resource': 'core',
        'x-github-request-id': requestId(),
        'x-github-api-version-selected': '2022-11-28',
      };
    },
    notFound: () => githubError(404, 'Not Found'),
  });

  const repoKnown = (req: FakeRequest) => repositories.has(`${req.params.owner}/${req.params.repo}`);
  const inRepo = (req: FakeRequest) => (d: { owner: string; repo: string }) =>
    d.owner === req.params.owner && d.repo === req.params.repo;

  function deploymentOf(req: FakeRequest): GitHubDeployment | undefined {
    return state.deployments.find((d) => inRepo(req)(d) && d.id === Number(req.params.id));
  }

  function latestStatus(id: number): GitHubDeploymentStatus | undefined {
    return state.statuses.filter((s) => s.deployment_id === id).at(-1);
  }

  function api(url: string, req: FakeRequest) {
    return `https://api.github.com/repos/${req.params.owner}/${req.params.repo}${url}`;
  }

  function deploymentView(d: GitHubDeployment, req: FakeRequest) {
    return {
      url: api(`/deployments/${d.id}`, req),
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      original_environment: d.original_environment,
      environment: d.environment,
      description: d.description,
      creator: user(),
      created_at: d.created_at,
      updated_at: d.updated_at,
      statuses_url: api(`/deployments/${d.id}/statuses`, req),
      repository_url: api('', req),
      transient_environment: d.transient_environment,
      production_environment: d.production_environment,
    };
  }

  function statusView(s: GitHubDeploymentStatus, req: FakeRequest) {
    return {
      url: api(`/deployments/${s.deployment_id}/statuses/${s.id}`, req),
      id: s.id,
      node_id: `DES_${s.id}`,
      state: s.state,
      creator: user(),
      description: s.description,
      environment: s.environment,
      target_url: s.target_url,
      log_url: s.log_url,
      environment_url: s.environment_url,
      created_at: s.created_at,
      updated_at: s.created_at,
      deployment_url: api(`/deployments/${s.deployment_id}`, req),
      repository_url: api('', req),
    };
  }

  function addStatus(d: GitHubDeployment, input: Partial<GitHubDeploymentStatus> & { state: string }) {
    const status: GitHubDeploymentStatus = {
      id: nextId++,
      deployment_id: d.id,
      state: input.state,
      description: input.description ?? '',
      environment: input.environment ?? d.environment,
      target_url: input.target_url ?? input.log_url ?? '',
      log_url: input.log_url ?? input.target_url ?? '',
      environment_url: input.environment_url ?? '',
      created_at: now(),
    };
    state.statuses.push(status);
    d.updated_at = status.created_at;
    return status;
  }

  server.route('POST', `${base}/deployments`, (req) => {
    if (!repoKnown(req)) return githubError(404, 'Not Found');
    const body = req.json as Record<string, unknown> & { ref: string };
    const sha = state.refs.get(body.ref) ?? (/^[0-9a-f]{40}$/.test(body.ref) ? body.ref : undefined);
    if (!sha) return githubError(422, `No ref found for: ${body.ref}`);
    const environment = (body.environment as string | undefined) ?? 'production';
    const created = now();
    const deployment: GitHubDeployment = {
      id: nextId++,
      owner: req.params.owner!,
      repo: req.params.repo!,
      sha,
      ref: body.ref,
      task: (body.task as string | undefined) ?? 'deploy',
      environment,
      original_environment: environment,
      description: (body.description as string | undefined) ?? null,
      payload: body.payload ?? {},
      transient_environment: Boolean(body.transient_environment),
      production_environment:
        (body.production_environment as boolean | undefined) ?? environment === 'production',
      created_at: created,
      updated_at: created,
    };
    state.deployments.push(deployment);
    return { status: 201, json: deploymentView(deployment, req) };
  });

  server.route('GET', `${base}/deployments`, (req) => {
    if (!repoKnown(req)) return githubError(404, 'Not Found');
    const q = req.query;
    const list = state.deployments
      .filter(inRepo(req))
      .filter(
        (d) =>
          (!q.get('environment') || d.environment === q.get('environment')) &&
          (!q.get('ref') || d.ref === q.get('ref')) &&
          (!q.get('sha') || d.sha === q.get('sha')) &&
          (!q.get('task') || d.task === q.get('task')),
      )
      .reverse();
    return paged(
      req,
      list.map((d) => deploymentView(d, req)),
    );
  });

  server.route('GET', `${base}/deployments/:id`, (req) => {
    const d = deploymentOf(req);
    return d ? { status: 200, json: deploymentView(d, req) } : githubError(404, 'Not Found');
  });

  server.route('DELETE', `${base}/deployments/:id`, (req) => {
    const d = deploymentOf(req);
    if (!d) return githubError(404, 'Not Found');
    const others = state.deployments.some(
      (o) => o !== d && o.environment === d.environment && inRepo(req)(o),
    );
    if (latestStatus(d.id)?.state === 'success' && others) {
      return githubError(
        422,
        'We cannot delete an active deployment unless it is the only deployment in a given environment.',
      );
    }
    state.deployments.splice(state.deployments.indexOf(d), 1);
    return { status: 204 };
  });

  server.route('POST', `${base}/deployments/:id/statuses`, (req) => {
    const d = deploymentOf(req);
    if (!d) return githubError(404, 'Not Found');
    const body = req.json as Partial<GitHubDeploymentStatus> & { state: string; auto_inactive?: boolean };
    if (body.environment) d.environment = body.environment;
    const status = addStatus(d, body);
    if (status.state === 'success' && body.auto_inactive !== false) {
      for (const other of state.deployments) {
        const sameEnv = other !== d && other.environment === d.environment && inRepo(req)(other);
        if (sameEnv && !other.transient_environment && latestStatus(other.id)?.state === 'success') {
          addStatus(other, { state: 'inactive', description: `Deployment ${d.id} superseded it` });
        }
      }
    }
    return { status: 201, json: statusView(status, req) };
  });

  server.route('GET', `${base}/deployments/:id/statuses`, (req) => {
    const d = deploymentOf(req);
    if (!d) return githubError(404, 'Not Found');
    const list = state.statuses.filter((s) => s.deployment_id === d.id).reverse();
    return paged(
      req,
      list.map((s) => statusView(s, req)),
    );
  });

  server.route('GET', `${base}/deployments/:id/statuses/:status`, (req) => {
    const s = state.statuses.find(
      (x) => x.id === Number(req.params.status) && x.deployment_id === Number(req.params.id),
    );
    return s && deploymentOf(req) ? { status: 200, json: statusView(s, req) } : githubError(404, 'Not Found');
  });

  server.route('GET', `${base}/actions/artifacts`, (req) => {
    if (!repoKnown(req)) return githubError(404, 'Not Found');
    const name = req.query.get('name');
    const list = state.artifacts
      .filter(inRepo(req))
      .filter((a) => !name || a.name === name)
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    const perPage = Number(req.query.get('per_page') ?? 30);
    const pageNo = Number(req.query.get('page') ?? 1);
    return {
      status: 200,
      json: {
        total_count: list.length,
        artifacts: list.slice((pageNo - 1) * perPage, pageNo * perPage).map((a) => ({
          id: a.id,
          node_id: `MDg6QXJ0aWZhY3Q${a.id}`,
          name: a.name,
          size_in_bytes: a.size_in_bytes,
          url: api(`/actions/artifacts/${a.id}`, req),
          archive_download_url: api(`/actions/artifacts/${a.id}/zip`, req),
          expired: a.expired,
          created_at: a.created_at,
          updated_at: a.created_at,
          expires_at: a.expires_at,
          workflow_run: a.workflow_run,
        })),
      },
    };
  });

  function paged(req: FakeRequest, items: unknown[]): FakeResponse {
    const perPage = Number(req.query.get('per_page') ?? 30);
    const pageNo = Number(req.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const links: string[] = [];
    const link = (n: number, rel: string) => {
      const q = new URLSearchParams(req.query);
      q.set('page', String(n));
      links.push(`<https://api.github.com${req.path}?${q}>; rel="${rel}"`);
    };
    if (pageNo < last) {
      link(pageNo + 1, 'next');
      link(last, 'last');
    }
    if (pageNo > 1) {
      link(1, 'first');
      link(pageNo - 1, 'prev');
    }
    return {
      status: 200,
      json: items.slice((pageNo - 1) * perPage, pageNo * perPage),
      headers: links.length ? { link: links.join(', ') } : {},
    };
  }

  return {
    server,
    token,
    state,
    /** Makes `ref` resolvable, to `sha` or a sha derived from the ref. */
    setRef(ref: string, sha = createHash('sha1').update(ref).digest('hex')): string {
      state.refs.set(ref, sha);
      return sha;
    },
    /** This repository's id, or a fork's: stable per name. */
    repositoryId,
    /**
     * An artifact of `repository`'s list; its run is of that repository on `main` unless
     * `workflow_run` says otherwise, e.g. `{ head_repository_id: repositoryId('fork/app') }`
     * for a pull request from a fork, or `{ head_branch: 'feature' }` for another branch.
     */
    addArtifact(
      input: Omit<Partial<GitHubArtifact>, 'workflow_run'> & {
        name: string;
        workflow_run?: Partial<GitHubArtifact['workflow_run']>;
      },
      repository = [...repositories][0]!,
    ): GitHubArtifact {
      const [owner, repo] = repository.split('/') as [string, string];
      const created = input.created_at ?? now();
      const artifact: GitHubArtifact = {
        id: input.id ?? nextId++,
        owner,
        repo,
        name: input.name,
        size_in_bytes: input.size_in_bytes ?? 1024,
        expired: input.expired ?? false,
        created_at: created,
        // Retention counts from upload; the fake's clock is not the wall clock, so the later of the two.
        expires_at:
          input.expires_at ??
          new Date(Math.max(Date.parse(created), Date.now()) + 90 * 86_400_000).toISOString(),
        workflow_run: {
          id: nextId++,
          repository_id: repositoryId(repository),
          head_repository_id: repositoryId(repository),
          head_branch: 'main',
          head_sha: 'a'.repeat(40),
          ...input.workflow_run,
        },
      };
      state.artifacts.push(artifact);
      return artifact;
    },
    deployments(environment?: string): GitHubDeployment[] {
      return state.deployments.filter((d) => !environment || d.environment === environment);
    },
    statusesOf(deploymentId: number): GitHubDeploymentStatus[] {
      return state.statuses.filter((s) => s.deployment_id === deploymentId);
    },
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

export type GitHubFake = ReturnType<typeof createGitHubFake>;

function contractUrl(): URL {
  return new URL('../contracts/github/deployments.openapi.json', import.meta.url);
}

function user() {
  return { login: 'ops-bot', id: 1, node_id: 'U_1', type: 'Bot', site_admin: false };
}

function requestId(): string {
  const h = randomBytes(10).toString('hex').toUpperCase();
  return `${h.slice(0, 4)}:${h.slice(4, 9)}:${h.slice(9, 15)}:${h.slice(15, 20)}`;
}

/**
 * GitHub's answer when the primary rate limit is used up ("Rate limits for the REST API",
 * https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api, "Exceeding the
 * primary rate limit": 403 or 429, `x-ratelimit-remaining: 0`, `x-ratelimit-reset` in UTC epoch
 * seconds). @octokit/plugin-throttling (src/index.ts) recognises it by `x-ratelimit-remaining`
 * being "0" and waits until the reset plus one second.
 */
export function primaryRateLimit(options: { resetAt: Date; status?: 403 | 429 }): Fault {
  return {
    status: options.status ?? 403,
    headers: {
      'x-ratelimit-limit': '1000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': '1000',
      'x-ratelimit-reset': String(Math.floor(options.resetAt.getTime() / 1000)),
      'x-ratelimit-resource': 'core',
    },
    json: {
      message:
        'API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:000000:000000.',
      documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
      status: String(options.status ?? 403),
    },
  };
}

/**
 * GitHub's answer to a request over a secondary rate limit (same page, "Exceeding a secondary
 * rate limit": 403 or 429 with a message saying so, `retry-after` in seconds when present, and
 * the primary headers still showing requests left). @octokit/plugin-throttling (src/index.ts)
 * recognises it by /secondary rate/ in the message and waits `retry-after`, else 60 s.
 */
export function secondaryRateLimit(options: { retryAfter?: number; status?: 403 | 429 } = {}): Fault {
  return {
    status: options.status ?? 403,
    ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
    json: {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:000000:000000.',
      documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
      status: String(options.status ?? 403),
    },
  };
}

export function githubError(status: number, message: string): FakeResponse {
  return { status, json: { message, documentation_url: DOCS, status: String(status) } };
}

function githubReject(problem: ContractProblem): FakeResponse {
  switch (problem.kind) {
    case 'unauthenticated':
      return githubError(401, 'Requires authentication');
    case 'bad-credentials':
      return githubError(401, 'Bad credentials');
    case 'invalid-request':
      return githubError(422, `Invalid request.\n\n${problem.violations.join('\n')}`);
    default:
      return githubError(404, 'Not Found');
  }
}
