import { providerList } from '../../core/provider-list.ts';
import { type GitHubClient, repoParams } from './client.ts';

/**
 * Repository artifacts (GET /repos/{owner}/{repo}/actions/artifacts, "List
 * artifacts for a repository"), filtered by exact name. The list holds the
 * artifacts of every run stored in the repository, pull requests from forks
 * included; `workflow_run` says which repository and branch each run was for.
 */

export interface RepoArtifact {
  id: number;
  name: string;
  expired: boolean;
  created_at: string | null;
  expires_at: string | null;
  workflow_run?: {
    id?: number;
    repository_id?: number;
    head_repository_id?: number;
    head_branch?: string;
    head_sha?: string;
  } | null;
}

export interface ArtifactsApi {
  listByName(name: string): Promise<RepoArtifact[]>;
}

const PER_PAGE = 100;
const MAX_PAGES = 10;

export function createArtifactsApi(github: GitHubClient, repository: string): ArtifactsApi {
  const repo = repoParams(repository);
  return {
    async listByName(name) {
      const all: RepoArtifact[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await github.request<{ total_count: number; artifacts: RepoArtifact[] }>({
          operation: 'artifacts.list',
          route: 'GET /repos/{owner}/{repo}/actions/artifacts',
          params: { ...repo, name, per_page: PER_PAGE, page },
        });
        const batch = providerList<RepoArtifact>(res.data, {
          provider: 'GitHub',
          operation: 'artifacts.list',
          request: res.request,
          field: 'artifacts',
          fields: { id: 'number', name: 'text' },
        });
        all.push(...batch.filter((a) => a.name === name));
        if (batch.length < PER_PAGE || page * PER_PAGE >= (res.data?.total_count ?? 0)) break;
      }
      return all;
    },
  };
}
