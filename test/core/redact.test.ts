import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/core/errors.ts';
import { encodedForms, Redactor } from '../../src/core/redact.ts';
import { Secrets } from '../../src/core/secrets.ts';

const SECRET = 'hunter2-Sup3r/S3cret+value';

describe('Redactor with literal secrets', () => {
  const forms: [string, (s: string) => string][] = [
    ['plain', (s) => `token is ${s}.`],
    ['URL-encoded', (s) => `?key=${encodeURIComponent(s)}&x=1`],
    ['JSON-escaped', (s) => JSON.stringify({ key: `${s}"quoted` })],
    ['base64', (s) => Buffer.from(s).toString('base64')],
    ['base64 at offset 1', (s) => Buffer.from(`x${s}yz`).toString('base64')],
    ['base64 at offset 2', (s) => Buffer.from(`xy${s}`).toString('base64')],
    ['base64url', (s) => Buffer.from(`user:${s}`).toString('base64url')],
    ['basic auth header', (s) => `Basic ${Buffer.from(`me:${s}`).toString('base64')}`],
  ];
  it.each(forms)('removes the secret when it appears %s', (_name, wrap) => {
    const r = new Redactor([]);
    r.addLiteral(SECRET, 'secret');
    const text = wrap(SECRET);
    const out = r.redact(text);
    expect(out).toContain('[REDACTED:secret]');
    expect(out).not.toContain(SECRET);
    for (const form of encodedForms(SECRET)) expect(out).not.toContain(form);
  });

  it('removes each line of a multi-line secret on its own', () => {
    const pem = 'line-one-of-key-material\nline-two-of-key-material';
    const r = new Redactor([]);
    r.addLiteral(pem, 'ssh-key');
    const out = r.redact('got: line-two-of-key-material only');
    expect(out).toBe('got: [REDACTED:ssh-key] only');
  });

  it('counts hits per kind and never records values', () => {
    const r = new Redactor([]);
    r.addLiteral('alpha-secret-1', 'a');
    r.addLiteral('beta-secret-22', 'b');
    r.redact('alpha-secret-1 beta-secret-22 alpha-secret-1');
    expect(r.counts).toEqual({ a: 2, b: 1 });
    expect(JSON.stringify(r.counts)).not.toContain('secret-1');
  });

  it('leaves text without secrets unchanged', () => {
    const r = new Redactor();
    r.addLiteral(SECRET);
    const text = 'Deployed 3 machines in ams, fra and iad at 12:00 (200 OK)';
    expect(r.redact(text)).toBe(text);
  });
});

describe('Redactor token shapes', () => {
  const shapes: [string, string][] = [
    [
      'private-key',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
    ],
    ['url-credentials', 'postgres://admin:pa55word@db.internal:5432/app'],
    ['authorization', 'Authorization: Bearer abc.def-123'],
    ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['github-token', `ghp_${'a1B2'.repeat(9)}`],
    ['github-token', `github_pat_${'11ABCDEFG0'.repeat(6)}`],
    ['aws-access-key', 'AKIAIOSFODNN7EXAMPLE'],
    ['slack-token', 'xoxb-123456789012-abcdefghijkl'],
    ['fly-token', `FlyV1 fm2_${'lJPECAAAAAAAAB'.repeat(3)},fm2_${'x9Y8'.repeat(8)}`],
    ['heroku-token', `HRKU-AA${'bC3d'.repeat(10)}`],
    ['digitalocean-token', `dop_v1_${'0123456789abcdef'.repeat(4)}`],
    ['cloudflare-token', `cfut_${'Ab9'.repeat(14)}`],
  ];
  it.each(shapes)('recognises %s', (kind, value) => {
    const r = new Redactor();
    const out = r.redact(`before ${value} after`);
    expect(out).toContain(`[REDACTED:${kind}]`);
    expect(out).not.toContain(value);
    expect(out.startsWith('before ')).toBe(true);
  });

  it('keeps the scheme of a URL and the header name', () => {
    const r = new Redactor();
    expect(r.redact('https://u:p@example.com/x')).toBe('https://[REDACTED:url-credentials]@example.com/x');
    expect(r.redact('authorization: token abcdef123456')).toBe(
      'authorization: token [REDACTED:authorization]',
    );
  });
});

describe('errors carry no secrets', () => {
  it('an ApiError built from an echoing server body is clean after redaction', () => {
    const secrets = new Secrets(() => {});
    secrets.add(SECRET);
    const body = secrets.redact(`{"message":"bad token ${SECRET}"}`);
    const error = new ApiError({
      provider: 'Heroku',
      operation: 'apps.info',
      status: 401,
      body,
      retryable: false,
      attempts: 1,
    });
    expect(error.message).not.toContain(SECRET);
    expect(error.message).toContain('[REDACTED:secret]');
  });

  it('tells the runner to mask every encoded form', () => {
    const masked: string[] = [];
    const secrets = new Secrets((v) => masked.push(v));
    secrets.add(SECRET);
    expect(masked).toContain(SECRET);
    expect(masked).toContain(encodeURIComponent(SECRET));
    expect(masked).toContain(Buffer.from(SECRET).toString('base64'));
    secrets.add(SECRET);
    expect(masked.filter((m) => m === SECRET)).toHaveLength(1);
  });
});
