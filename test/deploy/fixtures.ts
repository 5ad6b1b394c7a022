import { expect } from 'vitest';
import type { FakeServer } from '../../sandbox/fake-server.ts';
import type { GitHubFake } from '../../sandbox/fakes/github.ts';
import type { BundleRun } from '../helpers/run-bundle.ts';

/** Canary secrets: each must never appear in anything a run writes. */
export const SECRETS = {
  fly: 'fo1_CANARYflyTOKEN0123456789abcdefghijklmn',
  github: 'ghs_CANARYgithubTOKEN0123456789abcdefghij',
  heroku: 'HRKU-CANARYherokuKEY0123456789abcdefgh',
  registry: 'CANARY-registry-pass-5813',
};

export const OLD_IMAGE = 'registry.fly.io/test-app:deployment-1';
export const digestImage = (c: string) => `ghcr.io/acme/web@sha256:${c.repeat(64)}`;

export function expectNoSecrets(run: BundleRun): void {
  for (const secret of Object.values(SECRETS)) {
    expect(run.everything).not.toContain(secret);
    expect(run.everything).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

export function expectNoViolations(...servers: FakeServer[]): void {
  for (const server of servers) expect(server.violations).toEqual([]);
}

/** Statuses of a deployment, oldest first, as `state` strings. */
export function statesOf(github: GitHubFake, id: number): string[] {
  return github.statusesOf(id).map((s) => s.state);
}
