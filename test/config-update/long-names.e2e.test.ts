import { expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * Long target names (host:port of a Kamal URL) are shortened in the failure error as in their
 * progress line: head … tail (`urls` line N); `results` keeps the whole URL.
 */
it('the failure error names a long target as its progress line does, with its line', async () => {
  // A target's id is its host:port; a .invalid name never resolves (RFC 6761), so it fails at once.
  const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.invalid:9`;
  const long = `http://${host}/update_config`;
  const run = await runBundle('config-update', {
    inputs: {
      target: 'kamal',
      urls: `# fleet\n\n${long}`,
      'auth-token': 'tok-long-names-1234',
      retries: '0',
    },
  });
  expect(run.code).toBe(1);
  const [error] = run.errors;
  const shown = `${host.slice(0, 80)}…${host.slice(-24)} (urls line 3)`;
  expect(error).toContain(`failed: ${shown} (`);
  expect(error).not.toContain(host);
  expect(run.everything).toContain(`${shown} failed`);
  expect(JSON.parse(run.outputs.results ?? '[]')[0].url).toBe(long);
});
