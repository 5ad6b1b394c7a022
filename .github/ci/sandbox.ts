/**
 * Starts the loopback sandbox the CI job `actions` points the four actions at,
 * seeded so that each action's dry-run has something real to observe, and keeps
 * it running in the background.
 *
 *   node .github/ci/sandbox.ts <env-file>
 *
 * Writes `<name>=<value>` lines (for $GITHUB_OUTPUT) to <env-file> once every
 * fake listens. On SIGTERM it writes <env-file>.report.json: every request a
 * fake received that is not a read, and every contract violation. A dry-run
 * must leave both lists empty.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { seedDemoFleet } from '../../sandbox/fleet.ts';
import { startSandbox } from '../../sandbox/index.ts';

const envFile = process.argv[2];
if (!envFile) {
  process.stderr.write('usage: node .github/ci/sandbox.ts <env-file>\n');
  process.exit(2);
}

const sandbox = await startSandbox({ repository: process.env.GITHUB_REPOSITORY ?? 'acme/ops-actions' });
seedDemoFleet(sandbox);
// The deploy dry-run promotes smooth-staging to smooth within one pipeline.
const pipeline = sandbox.heroku.seedPipeline('fleet');
for (const [name, stage] of [
  ['smooth-staging', 'staging'],
  ['smooth', 'production'],
] as const) {
  sandbox.heroku.seedApp({ name });
  sandbox.heroku.couple(name, pipeline.id, stage);
  sandbox.heroku.seedReleases(name, 2);
}

const urls: Record<string, string> = {
  'heroku-api-url': sandbox.urls.heroku,
  'heroku-api-key': sandbox.tokens.heroku,
  'hetzner-api-url': sandbox.urls.hetzner,
  'hetzner-token': sandbox.tokens.hetzner,
  'github-api-url': sandbox.urls.github,
  'github-token': sandbox.tokens.github,
};
sandbox.urls.kamal.forEach((url, i) => {
  urls[`kamal-url-${i + 1}`] = `${url}/update_config`;
});
const lines = Object.entries(urls).map(([k, v]) => `${k}=${v}`);
writeFileSync(`${envFile}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${envFile}.tmp`, envFile);
process.stdout.write(`sandbox listening (pid ${process.pid}):\n${lines.join('\n')}\n`);

const servers = [
  sandbox.heroku.server,
  sandbox.hetzner.server,
  sandbox.cloudflare.server,
  sandbox.fly.server,
  sandbox.fly.app,
  sandbox.digitalocean.server,
  sandbox.github.server,
  ...sandbox.kamal.hosts.map((h) => h.server),
];
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

process.on('SIGTERM', () => {
  const report = {
    mutating: servers.flatMap((s) =>
      s.requests.filter((r) => !READS.has(r.method)).map((r) => `${s.name}: ${r.method} ${r.path}`),
    ),
    violations: sandbox.violations().map((v) => `${v.fake}: ${v.method} ${v.path}: ${v.problems.join('; ')}`),
    requests: servers.reduce((n, s) => n + s.requests.length, 0),
  };
  writeFileSync(`${envFile}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
});
