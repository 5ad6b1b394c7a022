/**
 * Starts the loopback fakes the CI job `actions` points the four actions at, seeded so that each
 * action's dry-run has something real to observe, and keeps them running in the background.
 *
 *   node .github/ci/sandbox.ts <env-file>
 *
 * Writes `<name>=<url>` lines (for $GITHUB_OUTPUT) to <env-file> once every fake listens. On
 * SIGTERM it writes <env-file>.report.json: every request each fake received that is not a read,
 * and every contract violation. A dry-run must leave both lists empty.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createGitHubFake } from '../../sandbox/fakes/github.ts';
import { createHerokuFake } from '../../sandbox/fakes/heroku.ts';
import { createHetznerFake } from '../../sandbox/fakes/hetzner.ts';
import { createKamalFake } from '../../sandbox/fakes/kamal.ts';

const envFile = process.argv[2];
if (!envFile) {
  process.stderr.write('usage: node .github/ci/sandbox.ts <env-file>\n');
  process.exit(2);
}
const repository = process.env.GITHUB_REPOSITORY ?? 'acme/ops-actions';

const heroku = createHerokuFake();
const source = heroku.seedApp({ name: 'fetlife-prod' });
heroku.seedApp({ name: 'smooth-staging' });
heroku.seedApp({ name: 'smooth' });
const pipeline = heroku.seedPipeline('fleet');
heroku.couple(source.name, pipeline.id, 'production');
heroku.couple('smooth-staging', pipeline.id, 'staging');
heroku.couple('smooth', pipeline.id, 'production');
heroku.seedReleases(source.name, 2);
heroku.seedReleases('smooth-staging', 2);
heroku.seedReleases('smooth', 2);
heroku.seedAddon(source.name, {
  service: 'heroku-postgresql',
  config: { DATABASE_URL: 'postgres://u:p@db.invalid/x' },
});

const hetzner = createHetznerFake();
hetzner.addZone({ name: 'shibari.photo' });

const github = createGitHubFake({ repositories: [repository] });
const kamal = createKamalFake({ hosts: 2 });

await Promise.all([heroku.start(), hetzner.start(), github.start(), kamal.start()]);

const urls: Record<string, string> = {
  'heroku-api-url': heroku.url,
  'hetzner-api-url': `${hetzner.server.url}/v1`,
  'github-api-url': github.server.url,
  'github-token': github.token,
  'hetzner-token': hetzner.token,
};
kamal.hosts.forEach((h, i) => {
  urls[`kamal-url-${i + 1}`] = `${h.url}/update_config`;
});
const lines = Object.entries(urls).map(([k, v]) => `${k}=${v}`);
writeFileSync(`${envFile}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${envFile}.tmp`, envFile);
process.stdout.write(`sandbox listening (pid ${process.pid}):\n${lines.join('\n')}\n`);

const servers = [heroku.server, hetzner.server, github.server, ...kamal.hosts.map((h) => h.server)];
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

process.on('SIGTERM', () => {
  const report = {
    mutating: servers.flatMap((s) =>
      s.requests.filter((r) => !READS.has(r.method)).map((r) => `${s.name}: ${r.method} ${r.path}`),
    ),
    violations: servers.flatMap((s) => s.violations.map((v) => `${s.name}: ${JSON.stringify(v)}`)),
    requests: servers.reduce((n, s) => n + s.requests.length, 0),
  };
  writeFileSync(`${envFile}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
});
