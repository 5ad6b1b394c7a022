import type { HttpClient } from '../../core/http.ts';
import { providerList } from '../../core/provider-list.ts';
import { seg } from './client.ts';

export interface HerokuPromotionInfo {
  id: string;
  status: string;
}

export interface HerokuPromotionTargetInfo {
  id: string;
  appId: string;
  status: 'pending' | 'succeeded' | 'failed' | string;
  errorMessage: string | undefined;
  releaseId: string | undefined;
}

interface TargetJson {
  id: string;
  app: { id: string };
  status: string;
  error_message?: string | null;
  release?: { id: string } | null;
}

export class HerokuPromotions {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** Not retried: a second POST would promote again. */
  async create(input: {
    pipelineId: string;
    sourceAppId: string;
    sourceReleaseId?: string | undefined;
    targetAppIds: string[];
  }): Promise<HerokuPromotionInfo> {
    const source: Record<string, unknown> = { app: { id: input.sourceAppId } };
    if (input.sourceReleaseId) source.release = { id: input.sourceReleaseId };
    const res = await this.http.request<{ id: string; status: string }>({
      operation: 'pipeline-promotion.create',
      method: 'POST',
      path: '/pipeline-promotions',
      json: {
        pipeline: { id: input.pipelineId },
        source,
        targets: input.targetAppIds.map((id) => ({ app: { id } })),
      },
    });
    return { id: res.data.id, status: res.data.status };
  }

  async targets(promotionId: string): Promise<HerokuPromotionTargetInfo[]> {
    const res = await this.http.request<TargetJson[]>({
      operation: 'pipeline-promotion-target.list',
      path: `/pipeline-promotions/${seg(promotionId)}/promotion-targets`,
    });
    return providerList<TargetJson>(res.data, {
      provider: this.http.provider,
      operation: 'pipeline-promotion-target.list',
      fields: { id: 'text', app: 'object', status: 'text' },
      requestId: res.requestId,
      request: res.request,
    }).map((t) => ({
      id: t.id,
      appId: t.app.id,
      status: t.status,
      errorMessage: t.error_message ?? undefined,
      releaseId: t.release?.id ?? undefined,
    }));
  }
}
