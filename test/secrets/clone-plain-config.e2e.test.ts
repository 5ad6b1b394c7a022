import { afterEach, describe, expect, it } from 'vitest';
import { APP, createWorld, type World, ZONE } from '../clone/world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

describe('issue 12: plain config values are not secrets (clone bundle)', () => {
  it('keeps outputs that contain a config value intact and never masks it', async () => {
    w = await createWorld();
    const run = await w.run({ config: 'ASSET_HOST=https://tati.shibari.photo\nINSTANCE=tati' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const app = w.heroku.app(APP)!;
    expect(w.heroku.config(APP)).toMatchObject({
      ASSET_HOST: 'https://tati.shibari.photo',
      INSTANCE: 'tati',
    });
    expect(run.outputs).toMatchObject({
      'app-name': APP,
      'heroku-url': app.webUrl,
      'subdomain-url': `https://tati.${ZONE}`,
    });
    expect(run.outputs.record).toMatch(/^tati,\/Photos\/tati,.*,https:\/\/tati\.shibari\.photo,/);
    expect(run.stdout).not.toMatch(/^::add-mask::(tati|https:\/\/tati\.shibari\.photo)$/m);
    expect(run.everything).not.toContain('[REDACTED');
  });
});
