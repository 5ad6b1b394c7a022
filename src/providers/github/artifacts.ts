import type { HttpClient } from '../../core/http.ts';
import { repoPath } from './client.ts';

/** Repository artifacts (GET /repos/{owner}/{repo}/actions/artifacts), filtered by exact name. */

export interface RepoArtifact {
  id: number;
  name: string;
  expired: boolean;
  created_at: string | null;
  expires_at: string | null;
  workflow_run?: { id?: number; head_sha?: string; head_branch?: string } | null;
}

export interface ArtifactsApi {
  listByName(name: string): Promise<RepoArtifact[]>;
}

const PER_PAGE = 100;
const MAX_PAGES = 10;

export function createArtifactsApi(client: HttpClient, repository: string): ArtifactsApi {
  const path = `${repoPath(repository)}/actions/artifacts`;
  return {
    async listByName(name) {
      const all: RepoArtifact[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await client.request<{ total_count: number; artifacts: RepoArtifact[] }>({
          operation: 'artifacts.list',
          path,
          query: { name, per_page: PER_PAGE, page },
        });
        const batch = res.data?.artifacts ?? [];
        all.push(...batch.filter((a) => a.name === name));
        if (batch.length < PER_PAGE || all.length >= (res.data?.total_count ?? 0)) break;
      }
      return all;
    },
  };
}
