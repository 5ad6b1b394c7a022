import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubFake,
  type GitHubFake,
  primaryRateLimit,
  secondaryRateLimit,
} from '../../sandbox/fakes/github.ts';
import { type RunOptions, runBundle } from '../helpers/run-bundle.ts';
import { evidenceFiles, MILESTONES, workspaceWith } from './helpers.ts';

/**
 * `require-previous` through the committed bundle against the GitHub fake: only
 * this repository's runs on the branch in scope count, the refusal names every
 * artifact and why, and GitHub's rate limits are waited out within `timeout`.
 */

const TOKEN = 'ghs_gateCANARYtoken0123456789abcdefghijk';
const LIST = 'GET /repos/:owner/:repo/actions/artifacts';
const NAME = 'evidence-t1-env-created';
const YAML = `
target: t1
milestones: ${MILESTONES}
checks:
  - id: marker
    run: touch ran-marker
`;

let github: GitHubFake;
beforeAll(async () => {
  github = createGitHubFake({ token: TOKEN, repositories: ['acme/fleet'] });
  await github.start();
});
afterAll(() => github.stop());
beforeEach(() => {
  github.state.artifacts.length = 0;
  github.server.reset();
});

async function gate(
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
  more: Pick<RunOptions, 'onLine' | 'onSpawn'> = {},
) {
  const ws = workspaceWith(YAML);
  const run = await runBundle('evidence', {
    ...more,
    cwd: ws,
    inputs: {
      milestone: 'gates-pass',
      upload: 'false',
      'require-previous': 'true',
      'github-token': TOKEN,
      'github-api-url': github.server.url,
      ...inputs,
    },
    env,
  });
  expect(run.everything).not.toContain(TOKEN);
  expect(github.server.violations).toEqual([]);
  return { run, ran: existsSync(join(ws, 'ran-marker')), files: evidenceFiles(ws) };
}

const fork = () => github.repositoryId('mallory/fleet');

describe('whose evidence counts', () => {
  it('refuses artifacts from a fork, another branch or expired, and says why for each', async () => {
    const fromFork = github.addArtifact({ name: NAME, workflow_run: { head_repository_id: fork() } });
    const otherBranch = github.addArtifact({ name: NAME, workflow_run: { head_branch: 'feature/x' } });
    const expired = github.addArtifact({ name: NAME, expired: true });
    const { run, ran, files } = await gate();
    expect(run.code).toBe(1);
    expect(ran).toBe(false);
    expect(files).toEqual([]);
    expect(run.errors).toHaveLength(1);
    const error = run.errors[0]!;
    expect(error).toContain("no passing evidence of milestone 'env-created' from branch main of acme/fleet");
    expect(error).toContain(`GitHub lists 3 artifacts named ${NAME}, none counts`);
    expect(error).toContain(
      `artifact ${fromFork.id} of ${fromFork.created_at} from a fork: its workflow run's head repository is ${fork()}, not this one (${github.repositoryId('acme/fleet')})`,
    );
    expect(error).toContain(
      `artifact ${otherBranch.id} of ${otherBranch.created_at} from branch feature/x, not main`,
    );
    expect(error).toContain(`artifact ${expired.id} of ${expired.created_at} expired`);
    expect(error).toContain('require-previous-ref names another branch');
    expect(error).toContain('no check was run');
  });

  it('a fork whose branch is also called main does not count, with or without GITHUB_REPOSITORY_ID', async () => {
    github.addArtifact({ name: NAME, workflow_run: { head_repository_id: fork(), head_branch: 'main' } });
    for (const env of [{}, { GITHUB_REPOSITORY_ID: String(github.repositoryId('acme/fleet')) }] as Record<
      string,
      string
    >[]) {
      const { run, ran } = await gate({}, env);
      expect(run.code).toBe(1);
      expect(ran).toBe(false);
      expect(run.errors[0]).toContain('from a fork');
    }
  });

  it("takes this repository's own artifact on its branch, and names the newer ones it passed over", async () => {
    const own = github.addArtifact({ name: NAME });
    const newerFork = github.addArtifact({ name: NAME, workflow_run: { head_repository_id: fork() } });
    const { run, ran } = await gate({}, { GITHUB_REPOSITORY_ID: String(github.repositoryId('acme/fleet')) });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(ran).toBe(true);
    expect(run.stdout).toContain(
      `previous milestone env-created: passing evidence artifact ${own.id} from ${own.created_at} (run ${own.workflow_run.id} on main)`,
    );
    expect(run.stdout).toContain(`not counted: artifact ${newerFork.id} from a fork`);
  });

  it('require-previous-ref names the branch whose evidence counts', async () => {
    const release = github.addArtifact({ name: NAME, workflow_run: { head_branch: 'release/2.x' } });
    const refused = await gate();
    expect(refused.run.code).toBe(1);
    expect(refused.run.errors[0]).toContain(
      `artifact ${release.id} of ${release.created_at} from branch release/2.x, not main`,
    );
    const accepted = await gate({ 'require-previous-ref': 'refs/heads/release/2.x' });
    expect(accepted.run.errors).toEqual([]);
    expect(accepted.ran).toBe(true);
    expect(accepted.run.stdout).toContain(`passing evidence artifact ${release.id}`);
  });

  it("a pull request's run counts its head branch (GITHUB_HEAD_REF), not the merge ref", async () => {
    github.addArtifact({ name: NAME, workflow_run: { head_branch: 'feature/x' } });
    const { run, ran } = await gate(
      {},
      { GITHUB_HEAD_REF: 'feature/x', GITHUB_REF_NAME: '12/merge', GITHUB_REF: 'refs/pull/12/merge' },
    );
    expect(run.errors).toEqual([]);
    expect(ran).toBe(true);
  });

  it('a bad require-previous-ref is refused before any request', async () => {
    const { run, ran } = await gate({ 'require-previous-ref': 'feature..x' });
    expect(run.code).toBe(1);
    expect(ran).toBe(false);
    expect(run.errors).toEqual([
      expect.stringMatching(/^Input 'require-previous-ref' must be a branch name/),
    ]);
    expect(github.server.requests).toEqual([]);
  });
});

describe('GitHub rate limits on the artifacts list', () => {
  it('waits out a primary limit until x-ratelimit-reset, and says so', async () => {
    github.addArtifact({ name: NAME });
    github.server.inject({ route: LIST, fault: primaryRateLimit({ resetAt: new Date(Date.now() + 1000) }) });
    const { run, ran } = await gate();
    expect(run.errors).toEqual([]);
    expect(ran).toBe(true);
    expect(run.stdout).toMatch(
      /rate limited by GitHub, waiting \d+ s \(primary rate limit, GET \/repos\/acme\/fleet\/actions\/artifacts\)/,
    );
    expect(github.server.received(LIST).map((r) => r.status)).toEqual([403, 200]);
  });

  it('waits out a secondary limit for its retry-after (429 too)', async () => {
    github.addArtifact({ name: NAME });
    github.server.inject({ route: LIST, fault: secondaryRateLimit({ retryAfter: 1, status: 429 }) });
    const { run, ran } = await gate();
    expect(run.errors).toEqual([]);
    expect(ran).toBe(true);
    expect(run.stdout).toContain(
      'rate limited by GitHub, waiting 1 s (secondary rate limit, GET /repos/acme/fleet/actions/artifacts)',
    );
    expect(github.server.received(LIST).map((r) => r.status)).toEqual([429, 200]);
  });

  it('fails at once, naming the limit, when it outlasts timeout', async () => {
    github.addArtifact({ name: NAME });
    // No retry-after: GitHub asks for at least a minute, more than `timeout: 5`.
    github.server.inject({ route: LIST, fault: secondaryRateLimit() });
    const { run, ran } = await gate({ timeout: '5' });
    expect(run.code).toBe(1);
    expect(ran).toBe(false);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      'GitHub answered GET /repos/acme/fleet/actions/artifacts with HTTP 403: You have exceeded a secondary rate limit',
    );
    expect(run.errors[0]).toContain(
      "GitHub's secondary rate limit (no retry-after: at least one minute) needs a wait of 60 s, more than the 5 s a GitHub request may wait (the input timeout)",
    );
    expect(run.stdout).not.toContain('rate limited by GitHub, waiting');
    expect(github.server.received(LIST)).toHaveLength(1);
  });

  it('a 403 that is no rate limit names the token, without waiting', async () => {
    github.server.inject({
      route: LIST,
      fault: { status: 403, json: { message: 'Resource not accessible by integration' } },
    });
    const { run, ran } = await gate();
    expect(run.code).toBe(1);
    expect(ran).toBe(false);
    expect(run.errors).toEqual([
      expect.stringContaining(
        'github-token was refused by GitHub (403: Resource not accessible by integration)',
      ),
    ]);
    expect(run.stdout).not.toContain('rate limited by GitHub');
    expect(github.server.received(LIST)).toHaveLength(1);
  });

  it('a cancelled run stops waiting at once, and no check runs', async () => {
    github.addArtifact({ name: NAME });
    github.server.inject({ route: LIST, fault: secondaryRateLimit({ retryAfter: 50 }) });
    let child: ChildProcess | undefined;
    const { run, ran } = await gate(
      {},
      {},
      {
        onSpawn: (c) => {
          child = c;
        },
        onLine: (line) => {
          if (line.startsWith('rate limited by GitHub, waiting 50 s')) child?.kill('SIGINT');
        },
      },
    );
    expect(run.stdout).toContain(
      'rate limited by GitHub, waiting 50 s (secondary rate limit, GET /repos/acme/fleet/actions/artifacts)',
    );
    expect(run.code).toBe(1);
    expect(ran).toBe(false);
    expect(run.errors).toEqual([expect.stringContaining('cancelled (SIGINT)')]);
    expect(github.server.received(LIST)).toHaveLength(1);
  });
});
