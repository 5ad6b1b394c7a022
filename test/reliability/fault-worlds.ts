import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeServer, RecordedRequest } from '../../sandbox/fake-server.ts';
import { createFlyFake } from '../../sandbox/fakes/fly.ts';
import { createGitHubFake } from '../../sandbox/fakes/github.ts';
import { createHerokuFake } from '../../sandbox/fakes/heroku.ts';
import { createResultsFake, type ResultsArtifact, unzipEntries } from '../../sandbox/fakes/results.ts';
import { APP, SECRETS as CLONE_SECRETS, createWorld, endState } from '../clone/world.ts';
import { type BundleRun, runBundle } from '../helpers/run-bundle.ts';

/**
 * The worlds the faults matrix runs each action in: fresh fakes per cell, the
 * action's main path as inputs, a deterministic end state to compare with an
 * uninterrupted run, and a count of duplicate mutations (a resource created or
 * a change made twice).
 */

/** Per-attempt timeout for provider calls in every run of the matrix (OPS_ACTIONS_REQUEST_TIMEOUT). */
export const REQUEST_TIMEOUT_SECONDS = 2;
/** Rate-limit waits are slept at this fraction (OPS_ACTIONS_TEST_WAIT_SCALE): Heroku's 30 s in 0.3 s. */
export const WAIT_SCALE = 0.01;
const ENV = {
  OPS_ACTIONS_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_SECONDS),
  OPS_ACTIONS_TEST_WAIT_SCALE: String(WAIT_SCALE),
};

export interface FaultWorld {
  /** The provider fakes whose requests make the positions, in a fixed order. */
  servers: FakeServer[];
  /** `env` overrides the matrix's environment for this run, `inputs` the world's inputs. */
  run(env?: Record<string, string>, inputs?: Record<string, string>): Promise<BundleRun>;
  endState(): unknown;
  /** Descriptions of mutations made twice, e.g. `app.create ×2`. */
  duplicates(): string[];
  secrets: string[];
  /**
   * When a re-run cannot finish because the provider itself keeps what the cut
   * run left and offers no call to clear it: what it keeps, for the table.
   * Checked only when the re-run failed cleanly.
   */
  heldByProvider?(rerun: BundleRun): string | undefined;
  stop(): Promise<void>;
}

export interface Scenario {
  /** Row prefix, e.g. `clone (hetzner)`. */
  name: string;
  /** What the scenario's main path is, for the section's description. */
  covers: string;
  create(): Promise<FaultWorld>;
}

/** The request reached the provider's handler and was done, whether or not its answer came back. */
export function tookEffect(r: RecordedRequest): boolean {
  const status = r.handledStatus ?? (r.faulted ? undefined : r.status);
  return typeof status === 'number' && status < 300;
}

function effects(server: FakeServer, operation: string): RecordedRequest[] {
  return server.requests.filter((r) => (r.operation === operation || r.route === operation) && tookEffect(r));
}

function moreThanOnce(label: string, count: number, expected = 1): string[] {
  return count > expected ? [`${label} ×${count}`] : [];
}

const clone: Scenario = {
  name: 'clone',
  covers:
    'clone: the Hetzner DNS path (source app read, app created, config, pipeline coupling, ACM, custom domain, rrset, promotion, waits)',
  async create() {
    const w = await createWorld({ acmDelayMs: 100, promotionDelayMs: 100 });
    return {
      servers: [w.heroku.server, w.hetzner.server],
      run: (env) => w.run({ 'dns-provider': 'hetzner' }, { env: { ...ENV, ...env } }),
      endState: () => endState(w, 'hetzner'),
      duplicates: () => [
        ...moreThanOnce('app.create', effects(w.heroku.server, 'app.create').length),
        ...moreThanOnce('heroku apps', w.heroku.state.apps.filter((a) => a.name === APP).length),
        ...moreThanOnce(
          'pipeline-coupling.create',
          effects(w.heroku.server, 'pipeline-coupling.create').length,
        ),
        ...moreThanOnce('domain.create', effects(w.heroku.server, 'domain.create').length),
        ...moreThanOnce(
          'pipeline-promotion.create',
          effects(w.heroku.server, 'pipeline-promotion.create').length,
        ),
        ...moreThanOnce('create_rrset', effects(w.hetzner.server, 'create_rrset').length),
      ],
      secrets: CLONE_SECRETS,
      stop: async () => {
        await w.stop();
      },
    };
  },
};

const FLY_TOKEN = 'fm2_canaryFaultsFly0123456789abcdefABCDEF';
const AUTH_TOKEN = 'auth-canary-faults-7f3a9c2e';
const GITHUB_TOKEN = 'ghs_CANARYfaultsGITHUB0123456789abcdefghij';
const HEROKU_KEY = 'HRKU-CANARYfaultsKEY0123456789abcdefgh';
const MACHINES = ['m1', 'm2', 'm3'];

const configUpdate: Scenario = {
  name: 'config-update',
  covers:
    'config-update: target fly, 3 started machines (machines list, then one update call per machine to the app endpoint)',
  async create() {
    const fly = createFlyFake({ token: FLY_TOKEN, app: 'smooth', startDelayMs: 100 });
    await fly.start();
    for (const id of MACHINES) fly.addMachine({ id });
    return {
      servers: [fly.server, fly.app],
      run: (env) =>
        runBundle('config-update', {
          env: { ...ENV, ...env },
          timeoutMs: 90_000,
          inputs: {
            target: 'fly',
            url: `${fly.app.url}/showcase/update_config`,
            'fly-app': 'smooth',
            'fly-api-token': `FlyV1 ${FLY_TOKEN}`,
            'fly-api-url': `${fly.server.url}/v1`,
            'auth-token': AUTH_TOKEN,
            timeout: String(REQUEST_TIMEOUT_SECONDS),
          },
        }),
      // Regenerating the config is idempotent by design (the action retries it): a machine
      // must have been updated at least once; more calls are not duplicates.
      endState: () =>
        MACHINES.map((id) => [
          id,
          fly.app.requests.some((r) => r.headers['fly-force-instance-id'] === id && tookEffect(r)),
        ]),
      duplicates: () => [],
      secrets: [FLY_TOKEN, AUTH_TOKEN],
      stop: () => fly.stop(),
    };
  },
};

const NEW_IMAGE = `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`;

const deployFly: Scenario = {
  name: 'deploy fly',
  covers:
    "deploy: target fly, rolling over 3 machines (machines list, GitHub deployments of the run looked up, deployment and statuses, per machine lease, update, wait, health read, lease release; leases answered in flaps' envelope)",
  async create() {
    const fly = createFlyFake({ token: FLY_TOKEN, startDelayMs: 150, leaseEnvelope: true });
    const github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
    await Promise.all([fly.start(), github.start()]);
    for (const id of MACHINES) fly.addMachine({ id });
    return {
      servers: [fly.server, github.server],
      run: (env) =>
        runBundle('deploy', {
          env: { ...ENV, ...env },
          timeoutMs: 120_000,
          inputs: {
            target: 'fly',
            image: NEW_IMAGE,
            'tag-image': 'false',
            'fly-app': 'test-app',
            'fly-api-token': FLY_TOKEN,
            'fly-api-url': `${fly.server.url}/v1`,
            'github-token': GITHUB_TOKEN,
            'github-api-url': github.server.url,
            'health-timeout': '30',
          },
        }),
      endState: () => ({
        machines: fly.machines.map((m) => [m.id, m.config.image, m.state, m.lease ? 'leased' : 'free']),
        deployments: github.deployments().map((d) => ({
          environment: d.environment,
          image: (d.payload as { image?: string }).image,
          state: github.statusesOf(d.id).at(-1)?.state,
        })),
      }),
      duplicates: () => [
        ...moreThanOnce('GitHub deployments', github.deployments().length),
        ...MACHINES.flatMap((id) => {
          // An update to the image the machine already runs, since its last change.
          const images = fly.server
            .received('Machines_update')
            .filter((r) => r.path.split('/')[5] === id && tookEffect(r))
            .map((r) => (r.json as { config?: { image?: string } }).config?.image);
          const repeats = images.filter((image, i) => i > 0 && images[i - 1] === image).length;
          return repeats > 0 ? [`Machines_update ${id} to the same image ×${repeats + 1}`] : [];
        }),
      ],
      secrets: [FLY_TOKEN, GITHUB_TOKEN],
      stop: async () => {
        await Promise.all([fly.stop(), github.stop()]);
      },
    };
  },
};

export const DEPLOY_HEROKU: Scenario = {
  name: 'deploy heroku',
  covers:
    'deploy: target heroku with a build from source-url (app read, GitHub deployments of the run looked up, deployment and statuses, recent builds read, build create, build output stream, build and release reads)',
  async create() {
    const heroku = createHerokuFake({ apiKeys: [HEROKU_KEY], knobs: { buildLineIntervalMs: 20 } });
    const github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
    await Promise.all([heroku.start(), github.start()]);
    heroku.seedApp({ name: 'web-prod' });
    return {
      servers: [heroku.server, github.server],
      run: (env, inputs) =>
        runBundle('deploy', {
          env: { ...ENV, ...env },
          timeoutMs: 120_000,
          inputs: {
            target: 'heroku',
            'heroku-app': 'web-prod',
            'heroku-api-key': HEROKU_KEY,
            'heroku-api-url': heroku.url,
            'github-token': GITHUB_TOKEN,
            'github-api-url': github.server.url,
            // Room for Heroku's first 429 wait (30 s, decided unscaled) within one run's bound.
            'health-timeout': '120',
            'source-url': 'https://example.test/app.tgz',
            ...inputs,
          },
        }),
      endState: () => ({
        releases: heroku.state.releases.filter((r) => r.appId === heroku.app('web-prod')?.id).length,
        current: heroku.currentRelease('web-prod')?.version,
        deployments: github.deployments().map((d) => ({
          environment: d.environment,
          state: github.statusesOf(d.id).at(-1)?.state,
        })),
      }),
      duplicates: () => [
        ...moreThanOnce('GitHub deployments', github.deployments().length),
        ...moreThanOnce('build.create', effects(heroku.server, 'build.create').length),
      ],
      secrets: [HEROKU_KEY, GITHUB_TOKEN],
      stop: async () => {
        await Promise.all([heroku.stop(), github.stop()]);
      },
    };
  },
};

const EVIDENCE_YAML = `
target: t1
milestones: [env-created, gates-pass]
checks:
  - id: ok
    run: echo fine
`;
const EVIDENCE_ARTIFACT = 'evidence-t1-gates-pass';

/** The artifact holds the newest evidence file of the workspace, and nothing that is not a file there. */
function holdsLatestEvidence(artifact: ResultsArtifact | undefined, dir: string): boolean {
  if (!artifact?.finalized) return false;
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const newest = files.at(-1);
  const entries = unzipEntries(artifact.bytes);
  return (
    newest !== undefined &&
    entries.get(newest)?.equals(readFileSync(join(dir, newest))) === true &&
    [...entries].every(([name, bytes]) => files.includes(name) && bytes.equals(readFileSync(join(dir, name))))
  );
}

const evidence: Scenario = {
  name: 'evidence',
  covers:
    'evidence: require-previous with upload on (the GitHub artifacts list; the results service CreateArtifact, the blob Put Block and Put Block List, and FinalizeArtifact, sent by @actions/artifact in its own process); a re-run is a new job run of the same workflow run, so it meets what the first run left under the artifact name, and when an upload was cut after CreateArtifact the service holds the name for the rest of the run: the re-run fails saying so',
  async create() {
    const github = createGitHubFake({ token: GITHUB_TOKEN, repositories: ['acme/fleet'] });
    const results = createResultsFake();
    await Promise.all([github.start(), results.start()]);
    github.addArtifact({ name: 'evidence-t1-env-created' }, 'acme/fleet');
    const ws = mkdtempSync(join(tmpdir(), 'faults-evidence-'));
    mkdirSync(join(ws, '.github'), { recursive: true });
    writeFileSync(join(ws, '.github', 'evidence.yml'), EVIDENCE_YAML);
    const runBackendId = randomUUID();
    const secrets = [GITHUB_TOKEN];
    return {
      servers: [github.server, results.server],
      run: (env) => {
        const runtime = results.env({ runBackendId });
        secrets.push(runtime.ACTIONS_RUNTIME_TOKEN!);
        return runBundle('evidence', {
          cwd: ws,
          env: { ...ENV, ...runtime, ...env },
          timeoutMs: 120_000,
          inputs: {
            milestone: 'gates-pass',
            'require-previous': 'true',
            'github-token': GITHUB_TOKEN,
            'github-api-url': github.server.url,
          },
        });
      },
      endState: () => ({
        artifacts: results.artifacts.map((a) => [a.name, a.finalized]),
        holdsLatestEvidence: holdsLatestEvidence(
          results.artifact(EVIDENCE_ARTIFACT),
          join(ws, 'docs', 'evidence'),
        ),
      }),
      duplicates: () =>
        moreThanOnce(
          'evidence artifact',
          results.artifacts.filter((a) => a.name === EVIDENCE_ARTIFACT).length,
        ),
      secrets,
      // An upload cut after CreateArtifact leaves a record that holds the name for the whole
      // workflow run and that the service never lists, so neither @actions/artifact nor anyone
      // can delete it (sandbox/fakes/results.ts, CreateArtifact); the re-run must say so.
      heldByProvider: (rerun) => {
        const held = results.artifact(EVIDENCE_ARTIFACT);
        return held && !held.finalized && /: name conflict: .* never finalized/.test(rerun.errors[0] ?? '')
          ? 'name held for the run'
          : undefined;
      },
      stop: async () => {
        await Promise.all([github.stop(), results.stop()]);
      },
    };
  },
};

export const SCENARIOS: Scenario[] = [clone, configUpdate, deployFly, DEPLOY_HEROKU, evidence];
