import { describe, expect, it } from 'vitest';
import { committedSection, renderSection } from './matrix.ts';
import { needles, type Row, run, runCell, shaped } from './secrets.ts';

describe('reliability matrix: secret leaks', () => {
  it('finds every encoding of a planted value (the scan can fail)', () => {
    const value = shaped('JSON-escaped', 'cnryself0test');
    const found = needles('cnryself0test', [value]);
    expect(found).toContain('cnryself0test');
    expect(found).toContain(Buffer.from(value).toString('base64').replace(/=+$/, ''));
    expect(found).toContain(JSON.stringify(value).slice(1, -1));
    expect(found).toContain(encodeURIComponent(value));
  });

  it('reports a leak when a run prints a value the action cannot know is secret (control)', async () => {
    const control: Row = {
      label: 'control: build output prints an unknown canary',
      forms: ['plain'],
      plant: (s, _form, canary) => {
        s.heroku.knobs.buildLines = ['-----> Building', `not a secret to the action: ${canary}`];
        return {
          action: 'deploy',
          inputs: {
            target: 'heroku',
            'heroku-app': 'fetlife-prod',
            'heroku-api-key': s.tokens.heroku,
            'heroku-api-url': s.urls.heroku,
            'source-url': 'https://example.test/app.tgz',
            'github-token': '',
          },
          code: 0,
          values: [],
        };
      },
    };
    const cell = await runCell(control, 'plain', 9999);
    expect(cell.ok).toBe(false);
    expect(cell.result).toMatch(/^\d+ leaks in .*stdout/);
  }, 60_000);

  it('leaks no canary in any form through any channel; RELIABILITY.md agrees', async () => {
    const result = await run();
    expect(result.cells.filter((c) => !c.ok)).toEqual([]);
    expect(renderSection(result)).toBe(committedSection('secrets'));
  }, 240_000);
});
