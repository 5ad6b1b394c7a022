import type { HttpClient } from '../../core/http.ts';
import { seg } from './client.ts';

export interface HerokuPipelineInfo {
  id: string;
  name: string;
}

export interface HerokuCouplingInfo {
  id: string;
  appId: string;
  pipelineId: string;
  stage: string;
}

interface CouplingJson {
  id: string;
  app: { id: string };
  pipeline: { id: string };
  stage: string;
}

export class HerokuPipelines {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  async get(pipeline: string): Promise<HerokuPipelineInfo> {
    const res = await this.http.request<{ id: string; name: string }>({
      operation: 'pipeline.info',
      path: `/pipelines/${seg(pipeline)}`,
    });
    return { id: res.data.id, name: res.data.name };
  }
}

export class HerokuPipelineCouplings {
  private readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  /** The app's coupling, or undefined when the app is in no pipeline. */
  async findByApp(app: string): Promise<HerokuCouplingInfo | undefined> {
    const res = await this.http.request<CouplingJson>({
      operation: 'pipeline-coupling.info-by-app',
      path: `/apps/${seg(app)}/pipeline-couplings`,
      acceptStatus: [404],
    });
    return res.status === 404 ? undefined : toCoupling(res.data);
  }

  /** Not retried: a second create answers 422 (already a member); callers re-observe. */
  async create(input: { app: string; pipelineId: string; stage: string }): Promise<HerokuCouplingInfo> {
    const res = await this.http.request<CouplingJson>({
      operation: 'pipeline-coupling.create',
      method: 'POST',
      path: '/pipeline-couplings',
      json: { app: input.app, pipeline: input.pipelineId, stage: input.stage },
    });
    return toCoupling(res.data);
  }

  async updateStage(couplingId: string, stage: string): Promise<HerokuCouplingInfo> {
    const res = await this.http.request<CouplingJson>({
      operation: 'pipeline-coupling.update',
      method: 'PATCH',
      path: `/pipeline-couplings/${seg(couplingId)}`,
      json: { stage },
      retrySafe: true,
    });
    return toCoupling(res.data);
  }
}

function toCoupling(json: CouplingJson): HerokuCouplingInfo {
  return { id: json.id, appId: json.app.id, pipelineId: json.pipeline.id, stage: json.stage };
}
