import { providerList } from '../../core/provider-list.ts';
import { type GitHubClient, repoParams } from './client.ts';

/**
 * GitHub Deployments and their statuses: the deploy history of an
 * environment. Creating is never retried (a second POST is a second
 * deployment); reads page through `per_page=100`.
 */

export interface Deployment {
  id: number;
  environment: string;
  ref: string;
  sha: string;
  createdAt: string;
  payload: Record<string, unknown>;
}

export type DeploymentState =
  | 'error'
  | 'failure'
  | 'inactive'
  | 'in_progress'
  | 'queued'
  | 'pending'
  | 'success';

export interface DeploymentStatus {
  id: number;
  state: DeploymentState | string;
  description: string;
  createdAt: string;
}

export interface CreateDeploymentInput {
  ref: string;
  environment: string;
  description: string;
  payload: Record<string, unknown>;
  task?: string;
  transientEnvironment?: boolean;
  productionEnvironment?: boolean;
}

export interface CreateStatusInput {
  state: DeploymentState;
  description?: string;
  environmentUrl?: string;
  logUrl?: string;
}

interface DeploymentJson {
  id: number;
  environment: string;
  ref: string;
  sha: string;
  created_at: string;
  payload: unknown;
}

interface StatusJson {
  id: number;
  state: string;
  description?: string | null;
  created_at: string;
}

const MAX_PAGES = 10;

export class GitHubDeployments {
  private readonly github: GitHubClient;
  private readonly repo: { owner: string; repo: string };

  /** `repository` is `owner/repo`, as in GITHUB_REPOSITORY. */
  constructor(github: GitHubClient, repository: string) {
    this.github = github;
    this.repo = repoParams(repository);
  }

  async create(input: CreateDeploymentInput): Promise<Deployment> {
    const res = await this.github.request<DeploymentJson>({
      operation: 'deployments.create',
      route: 'POST /repos/{owner}/{repo}/deployments',
      retries: 0,
      params: {
        ...this.repo,
        ref: input.ref,
        task: input.task ?? 'deploy',
        auto_merge: false,
        required_contexts: [],
        payload: input.payload,
        environment: input.environment,
        description: input.description.slice(0, 140),
        transient_environment: input.transientEnvironment ?? false,
        production_environment: input.productionEnvironment ?? input.environment === 'production',
      },
    });
    return toDeployment(res.data);
  }

  /**
   * Newest first, as GitHub lists them; `environment` undefined lists every environment's;
   * `filter.sha` keeps the deployments of one commit.
   */
  async list(
    environment: string | undefined,
    maxPages = MAX_PAGES,
    filter: { sha?: string } = {},
  ): Promise<Deployment[]> {
    const out: Deployment[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const res = await this.github.request<DeploymentJson[]>({
        operation: 'deployments.list',
        route: 'GET /repos/{owner}/{repo}/deployments',
        params: {
          ...this.repo,
          ...(environment !== undefined ? { environment } : {}),
          ...(filter.sha ? { sha: filter.sha } : {}),
          per_page: 100,
          page,
        },
      });
      const items = providerList<DeploymentJson>(res.data, {
        provider: 'GitHub',
        operation: 'deployments.list',
        request: res.request,
        fields: { id: 'number', environment: 'string', ref: 'string', sha: 'string' },
      });
      out.push(...items.map(toDeployment));
      if (items.length < 100 || !/rel="next"/.test(res.headers.link ?? '')) break;
    }
    return out;
  }

  /** The deployment, or undefined when there is none with this id in the repository. */
  async get(id: number): Promise<Deployment | undefined> {
    const res = await this.github.request<DeploymentJson>({
      operation: 'deployments.get',
      route: 'GET /repos/{owner}/{repo}/deployments/{deployment_id}',
      params: { ...this.repo, deployment_id: id },
      acceptStatus: [404],
    });
    return res.status === 404 ? undefined : toDeployment(res.data);
  }

  /** Newest first. */
  async statuses(id: number): Promise<DeploymentStatus[]> {
    const res = await this.github.request<StatusJson[]>({
      operation: 'deployments.statuses.list',
      route: 'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
      params: { ...this.repo, deployment_id: id, per_page: 100 },
    });
    return providerList<StatusJson>(res.data, {
      provider: 'GitHub',
      operation: 'deployments.statuses.list',
      request: res.request,
      fields: { id: 'number', state: 'text' },
    }).map((s) => ({
      id: s.id,
      state: s.state,
      description: s.description ?? '',
      createdAt: s.created_at,
    }));
  }

  /**
   * A status POST is not idempotent, but a duplicate status only repeats history,
   * while a lost one leaves the deployment `in_progress` for ever: it is retried.
   * `signal` replaces the client's, e.g. a clean-up budget after a cancellation.
   */
  async setStatus(id: number, input: CreateStatusInput, signal?: AbortSignal): Promise<void> {
    await this.github.request({
      ...(signal ? { signal } : {}),
      operation: 'deployments.statuses.create',
      route: 'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
      params: {
        ...this.repo,
        deployment_id: id,
        state: input.state,
        ...(input.description ? { description: input.description.slice(0, 140) } : {}),
        ...(input.environmentUrl ? { environment_url: input.environmentUrl } : {}),
        ...(input.logUrl ? { log_url: input.logUrl } : {}),
        auto_inactive: true,
      },
    });
  }
}

function toDeployment(json: DeploymentJson): Deployment {
  const payload =
    json.payload && typeof json.payload === 'object' && !Array.isArray(json.payload)
      ? (json.payload as Record<string, unknown>)
      : typeof json.payload === 'string'
        ? parsePayload(json.payload)
        : {};
  return {
    id: json.id,
    environment: json.environment,
    ref: json.ref,
    sha: json.sha,
    createdAt: json.created_at,
    payload,
  };
}

function parsePayload(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
