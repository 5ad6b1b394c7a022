import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createKamalFake } from '../../sandbox/fakes/kamal.ts';
import { AUTH_TOKEN, expectNoSecrets, resultsOf } from '../config-update/fixtures.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * A Kamal URL may pass another URL as a parameter, percent-encoded (a config
 * source): its credentials (`https%3A%2F%2Fu%3Apass%40host`, upper- or
 * lower-case hex) and its secret parameters are the user's secrets as much as
 * the outer URL's own (which the inputs refuse to carry credentials at all).
 * One run of the committed bundle: results, results-file, progress, summary
 * and log name the targets with those parts redacted.
 */
const NESTED = 'NESTEDcanary2pw';
const LOWER = 'LOWERcanary3pw';

describe('config-update: secrets inside a percent-encoded URL passed as a parameter', () => {
  it('reach no output; the URL is otherwise kept as sent', async () => {
    const kamal = createKamalFake({ hosts: ['web-1', 'web-2'] });
    await kamal.start();
    try {
      const nested = encodeURIComponent(`https://u:${NESTED}@b.s3.example/c.json`);
      const lower = encodeURIComponent(`https://u:${LOWER}@b.s3.example/c.json`).replace(
        /%[0-9A-F]{2}/g,
        (h) => h.toLowerCase(),
      );
      const urls = [
        `${kamal.host('web-1').url}/update?src=${nested}`,
        `${kamal.host('web-2').url}/update?src=${lower}`,
      ];
      const run = await runBundle('config-update', {
        inputs: { target: 'kamal', 'auth-token': AUTH_TOKEN, urls: urls.join('\n') },
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      for (const host of kamal.hosts) {
        expect(host.server.requests).toHaveLength(1);
        expect(host.server.violations).toEqual([]);
      }
      expect(
        resultsOf(run.outputs)
          .map((r) => r.url)
          .sort(),
      ).toEqual(
        [
          `${kamal.host('web-1').url}/update?src=https%3A%2F%2F[REDACTED:url-credentials]%40b.s3.example%2Fc.json`,
          `${kamal.host('web-2').url}/update?src=https%3a%2f%2f[REDACTED:url-credentials]%40b.s3.example%2fc.json`,
        ].sort(),
      );
      expect(readFileSync(run.outputs['results-file']!, 'utf8')).toContain('[REDACTED:url-credentials]');
      expectNoSecrets(run.everything);
      for (const secret of [NESTED, LOWER]) expect(run.everything).not.toContain(secret);
    } finally {
      await kamal.stop();
    }
  }, 60_000);
});
