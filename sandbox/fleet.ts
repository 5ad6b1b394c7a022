import type { Sandbox } from './index.ts';

/**
 * The fleet the demo and the CI dry-run job act on: a Heroku app in a pipeline
 * with a database add-on, a Hetzner zone, six Fly machines (one stopped) in
 * three regions, and a repository whose commit deployments point at.
 */

export const DEMO_SHA = 'a'.repeat(40);

export function seedDemoFleet(s: Sandbox): void {
  const source = s.heroku.seedApp({ name: 'fetlife-prod', region: 'eu', stack: 'heroku-24' });
  const pipeline = s.heroku.seedPipeline('fetlife');
  s.heroku.couple(source.name, pipeline.id, 'production');
  Object.assign(s.heroku.config(source.name), {
    SECRET_KEY_BASE: 'demo-secret-key-base-0f9e8d7c6b5a',
    IMAGE_FOLDER: '/Photos/main',
    RAILS_ENV: 'production',
    SENTRY_DSN: 'https://public@sentry.example.com/1',
  });
  s.heroku.seedAddon(source.name, {
    service: 'heroku-postgresql',
    config: { DATABASE_URL: 'postgres://u:demo-db-password@db.internal:5432/fetlife' },
  });
  s.heroku.seedReleases(source.name, 3);
  s.hetzner.addZone({ name: 'shibari.photo' });
  const regions = ['ams', 'ams', 'fra', 'fra', 'iad', 'iad'];
  regions.forEach((region, i) => {
    s.fly.addMachine({
      id: `e28${i}6d1a${i}9e${i}8`,
      name: `smooth-${region}-${i}`,
      region,
      state: i === 5 ? 'stopped' : 'started',
      image: 'registry.fly.io/smooth:deployment-01',
    });
    s.fly.setAppBehaviour(`e28${i}6d1a${i}9e${i}8`, { latencyMs: 80 + i * 60 });
  });
  s.github.setRef('main', DEMO_SHA);
}
