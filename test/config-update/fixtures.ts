import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';

/** Canary secrets planted in every secret input; no output may contain them. */
export const FLY_TOKEN_VALUE = 'fm2_canaryFlyToken0123456789abcdefABCDEF';
export const FLY_TOKEN = `FlyV1 ${FLY_TOKEN_VALUE}`;
export const AUTH_TOKEN = 'auth-canary-7f3a9c2e1d5b';

export const CANARIES = [FLY_TOKEN_VALUE, AUTH_TOKEN, 'canaryFlyToken'];

export function expectNoSecrets(text: string): void {
  for (const canary of CANARIES) {
    if (text.includes(canary)) throw new Error(`secret canary ${canary.slice(0, 8)}… leaked into output`);
  }
}

export async function startFly(options: Parameters<typeof createFlyFake>[0] = {}): Promise<FlyFake> {
  const fly = createFlyFake({ token: FLY_TOKEN_VALUE, app: 'smooth', startDelayMs: 150, ...options });
  await fly.start();
  return fly;
}

export function flyInputs(fly: FlyFake, extra: Record<string, string> = {}): Record<string, string> {
  return {
    target: 'fly',
    url: `${fly.app.url}/showcase/update_config`,
    'fly-app': 'smooth',
    'fly-api-token': FLY_TOKEN,
    'fly-api-url': `${fly.server.url}/v1`,
    'auth-token': AUTH_TOKEN,
    ...extra,
  };
}

export function progressLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^\[\s*\d+\/\d+\s+\d+%\]/.test(l));
}

export interface Result {
  id: string;
  region: string | null;
  url: string;
  outcome: 'ok' | 'failed' | 'skipped' | 'planned';
  status: number | null;
  attempts: number;
  ms: number;
  error: string | null;
}

export function resultsOf(outputs: Record<string, string>): Result[] {
  return JSON.parse(outputs.results ?? '[]') as Result[];
}
