import type { HttpClient } from '../../core/http.ts';
import { HerokuAccounts } from './account.ts';
import { HerokuAcm } from './acm.ts';
import { HerokuAddonAttachments } from './addon-attachments.ts';
import { HerokuApps } from './apps.ts';
import { HerokuConfigVars } from './config-vars.ts';
import { HerokuDomains } from './domains.ts';
import { HerokuPipelineCouplings, HerokuPipelines } from './pipelines.ts';
import { HerokuPromotions } from './promotions.ts';
import { HerokuReleases } from './releases.ts';

/** Every resource client over one shared HttpClient. */
export interface Heroku {
  account: HerokuAccounts;
  apps: HerokuApps;
  configVars: HerokuConfigVars;
  attachments: HerokuAddonAttachments;
  pipelines: HerokuPipelines;
  couplings: HerokuPipelineCouplings;
  domains: HerokuDomains;
  acm: HerokuAcm;
  releases: HerokuReleases;
  promotions: HerokuPromotions;
}

export function herokuClients(http: HttpClient): Heroku {
  return {
    account: new HerokuAccounts(http),
    apps: new HerokuApps(http),
    configVars: new HerokuConfigVars(http),
    attachments: new HerokuAddonAttachments(http),
    pipelines: new HerokuPipelines(http),
    couplings: new HerokuPipelineCouplings(http),
    domains: new HerokuDomains(http),
    acm: new HerokuAcm(http),
    releases: new HerokuReleases(http),
    promotions: new HerokuPromotions(http),
  };
}
