import { describe, expect, it } from 'vitest';
import { evidenceFiles, workspaceWith } from '../evidence/helpers.ts';
import { runBundle } from '../helpers/run-bundle.ts';

/**
 * Secrets the evidence bundle knows only by their shape, printed by local
 * checks as real commands print them (curl -v with CRLF, a value on the next
 * line of YAML or JSON, a key split by a pause in the middle, a percent-encoded
 * URL), in one run. Each secret is put together by the shell, so the checks
 * file holds none of them. The output is redacted at each step (check output,
 * then the evidence file, then stdout): a marker redacted again stays as it is.
 */

const SECRETS = [
  'tokCURLsecret4242',
  'tokSLOWsecret99',
  'tokJSONsecret55',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYAWSSECRETK',
  'KEYLINEONEsecret',
  'KEYLINETWOsecret',
  'PCTCREDsecret',
];

const RUNS: [string, string][] = [
  [
    'curl',
    `s=CURLsecret; printf '> GET / HTTP/1.1\\r\\n> Authorization: Bearer tok%s4242\\r\\n> Accept: */*\\r\\n' "$s"`,
  ],
  [
    'slow',
    `s=SLOWsecret; printf 'Authorization:'; sleep 0.3; printf '\\r\\n  Bea'; sleep 0.3; printf 'rer tok%s99\\r\\n' "$s"`,
  ],
  ['json', `s=JSONsecret; printf '{"Authorization": [\\n'; sleep 0.3; printf '  "Bearer tok%s55"]}\\n' "$s"`],
  [
    'aws',
    `s=AWSSECRET; printf 'aws_secret_access_key:\\n'; sleep 0.3; printf '  wJalrXUtnFEMI/K7MDENG/bPxRfiCY%sK\\n' "$s"`,
  ],
  [
    'key',
    `s=secret; printf -- '-----BEGIN CERTIFICATE-----\\nMIIDpublic\\n-----END CERTIFICATE-----\\n-----BEGIN RSA PRIVATE KEY-----\\nKEYLINEONE%s' "$s"; sleep 0.3; printf '\\nKEYLINETWO%s\\n-----END RSA PRIVATE KEY-----\\nafter-key\\n' "$s"`,
  ],
  ['pct', `s=PCTCRED; printf 'GET /u?src=https%%3A%%2F%%2Fuser%%3A%ssecret%%40host%%2Fp\\n' "$s"`],
  ['kubelet', `printf 'authorization:\\n  mode: Webhook\\n  webhook:\\n    cacheAuthorizedTTL: 5m0s\\n'`],
];
const CHECKS = `target: t1\nchecks:\n${RUNS.map(([id, run]) => `  - id: ${id}\n    run: ${JSON.stringify(run)}\n`).join('')}`;

describe('evidence bundle: secrets known by their shape, in many shapes and chunkings', () => {
  it('reach no output; markers redacted again stay whole; ordinary YAML stays', async () => {
    const ws = workspaceWith(CHECKS);
    const run = await runBundle('evidence', { cwd: ws, inputs: { upload: 'false', milestone: 'm' } });
    expect(run.errors).toEqual([]);
    expect(run.outputs.passed).toBe('7');
    for (const secret of SECRETS) expect(run.everything).not.toContain(secret);
    const text = evidenceFiles(ws)[0]!.text;
    // The scheme stays, once and unbracketed, however many times the text is redacted.
    expect(text).toContain('> Authorization: Bearer [REDACTED:authorization]\r\n> Accept: */*');
    expect(text).toContain('Authorization:\r\n  Bearer [REDACTED:authorization]\r\n');
    expect(text).toContain('{"Authorization": [\n  "Bearer [REDACTED:authorization]"]}');
    expect(text).not.toMatch(/\[\[REDACTED:[a-z-]+\]\]/);
    expect(text).toContain('aws_secret_access_key:\n  [REDACTED:aws-secret-key]\n');
    expect(text).toContain(
      '-----BEGIN CERTIFICATE-----\nMIIDpublic\n-----END CERTIFICATE-----\n[REDACTED:private-key]\nafter-key',
    );
    expect(text).toContain('GET /u?src=https%3A%2F%2F[REDACTED:url-credentials]%40host%2Fp');
    // A YAML section named authorization is no header: its keys are evidence.
    expect(text).toContain('authorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 5m0s');
    expect(text).not.toContain('[REDACTED:authorization] [REDACTED:authorization]');
  }, 60_000);
});
