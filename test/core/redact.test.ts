import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/core/errors.ts';
import { encodedForms, Redactor, StreamRedactor } from '../../src/core/redact.ts';
import { isSecretConfigValue, Secrets } from '../../src/core/secrets.ts';

const SECRET = 'hunter2-Sup3r/S3cret+value p@ss%22w/rd&<x>!~';

describe('Redactor with literal secrets', () => {
  const forms: [string, (s: string) => string][] = [
    ['plain', (s) => `token is ${s}.`],
    ['URL-encoded', (s) => `?key=${encodeURIComponent(s)}&x=1`],
    ['encodeURI-encoded', (s) => `https://h.example/${encodeURI(`${s} "x"`)}`],
    ['form-encoded', (s) => `a=1&${new URLSearchParams({ key: `${s} (x)` }).toString()}`],
    ['query-escaped, space as +', (s) => `q=${encodeURIComponent(`${s} x`).replace(/%20/g, '+')}`],
    [
      'URL-encoded with lower-case hex (.NET HttpUtility.UrlEncode)',
      (s) => `/t/${encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}/update`,
    ],
    [
      'form-encoded with lower-case hex',
      (s) => new URLSearchParams({ key: s }).toString().replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    ],
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

  it.each([
    [
      'https://h/update?src=https%3A%2F%2Fb.s3.example%2Fc.json%3FX-Amz-Signature%3Dabc123def%26X-Amz-Date%3D1&x=1',
      'https://h/update?src=https%3A%2F%2Fb.s3.example%2Fc.json%3FX-Amz-Signature%3D[REDACTED:url-secret]%26X-Amz-Date%3D1&x=1',
    ],
    ['u?next=%2Fa%3Fsig%3Dq9%252Bw%23frag', 'u?next=%2Fa%3Fsig%3D[REDACTED:url-secret]%23frag'],
    ['u?r=x%3ftoken%3dAbC', 'u?r=x%3ftoken%3d[REDACTED:url-secret]'],
    ['u?r=x%26api_key%3DK1&y', 'u?r=x%26api_key%3D[REDACTED:url-secret]&y'],
    // Not a parameter name: an escape's hex digits run into it only through `%XX`.
    ['u?mytoken%3Dv', 'u?mytoken%3Dv'],
  ])('redacts a secret parameter inside a percent-encoded URL: %s', (text, redacted) => {
    expect(new Redactor().redact(text)).toBe(redacted);
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
      request: 'GET /apps/a',
      status: 401,
      body,
      retryable: false,
      attempts: 1,
    });
    expect(error.message).not.toContain(SECRET);
    expect(error.message).toContain('[REDACTED:secret]');
  });

  it('sends each value to the runner once, as is: the runner masks its lines and encodings itself', () => {
    const masked: string[] = [];
    const secrets = new Secrets((v) => masked.push(v));
    secrets.add(SECRET);
    secrets.add(SECRET);
    secrets.add('line-one\nline-two');
    secrets.add('line-two');
    expect(masked).toEqual([SECRET, 'line-one\nline-two']);
    // Our own redactor still knows every encoded form.
    expect(secrets.redact(Buffer.from(SECRET).toString('base64'))).toBe('[REDACTED:secret]');
    expect(secrets.redact(encodeURIComponent(SECRET))).toBe('[REDACTED:secret]');
  });
});

describe('Redactor: shapes added for the evidence action', () => {
  const shapes: [string, string][] = [
    ['aws-secret-key', `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}`],
    ['slack-token', 'xapp-1-A0123456789-canaryAppToken'],
    ['slack-webhook', 'https://hooks.slack.com/workflows/T000/A000/123/abcDEF'],
    ['cloudflare-token', `cfk_${'Kk9'.repeat(14)}`],
    ['cloudflare-token', `cfat_${'Zz1'.repeat(14)}`],
    ['authorization', 'PROXY-AUTHORIZATION: Basic dXNlcjpwYXNz'],
    ['authorization', 'AuThOrIzAtIoN: token mixedcase123'],
  ];
  it.each(shapes)('recognises %s', (kind, value) => {
    const out = new Redactor().redact(`before ${value} after`);
    expect(out).toContain(`[REDACTED:${kind}]`);
    expect(out.startsWith('before ')).toBe(true);
  });

  it('redacts an unterminated private key block to the end (output cut mid-key)', () => {
    const out = new Redactor().redact('x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nmore');
    expect(out).toBe('x\n[REDACTED:private-key]');
  });

  it('leaves a certificate alone', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(new Redactor().redact(cert)).toBe(cert);
  });

  it('an Authorization header whose value is on the next line', () => {
    expect(new Redactor().redact('authorization:\n  Bearer abcdefgh123')).not.toContain('abcdefgh123');
  });

  // Where an Authorization value or an AWS secret key is printed: the value on the name's line or
  // the next one. A blank line between is not a header value, and a private key block ends at the
  // END line of a PRIVATE KEY, whatever other END lines (a PEM bundle) come first.
  const multiLine: [string, string, string][] = [
    [
      'HTTP header',
      'Authorization: Bearer sekret-1\r\nHost: x\r\n',
      'Authorization: Bearer [REDACTED:authorization]\r\nHost: x\r\n',
    ],
    [
      'curl -v',
      '> GET / HTTP/1.1\n> Authorization: Basic dXNlcjpw\n>\n',
      '> GET / HTTP/1.1\n> Authorization: Basic [REDACTED:authorization]\n>\n',
    ],
    [
      "Go's http.Header",
      'map[Authorization:[Bearer sekret-1] Accept:[*/*]]',
      'map[Authorization:[Bearer [REDACTED:authorization]] Accept:[*/*]]',
    ],
    [
      'JSON',
      '{"authorization":["Bearer sekret-1"]}',
      '{"authorization":["Bearer [REDACTED:authorization]"]}',
    ],
    [
      'indented JSON',
      '"Authorization": [\n    "Bearer sekret-1"\n  ]',
      '"Authorization": [\n    "Bearer [REDACTED:authorization]"\n  ]',
    ],
    [
      'YAML, value on the next line',
      'headers:\n  Authorization:\n    Bearer sekret-1\n',
      'headers:\n  Authorization:\n    Bearer [REDACTED:authorization]\n',
    ],
    [
      'YAML, folded after the scheme',
      'Authorization: Bearer\n  sekret-1\n',
      'Authorization: Bearer\n  [REDACTED:authorization]\n',
    ],
    [
      'CGI environment',
      'HTTP_AUTHORIZATION=Bearer sekret-1\n',
      'HTTP_AUTHORIZATION=Bearer [REDACTED:authorization]\n',
    ],
    [
      'a blank line between: no value',
      'authorization:\n\nBearer is a scheme\n',
      'authorization:\n\nBearer is a scheme\n',
    ],
    [
      'AWS env file',
      `AWS_SECRET_ACCESS_KEY=${'k'.repeat(40)}\n`,
      'AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]\n',
    ],
    [
      'AWS YAML, next line',
      `aws_secret_access_key:\n  ${'k'.repeat(40)}\n`,
      'aws_secret_access_key:\n  [REDACTED:aws-secret-key]\n',
    ],
    [
      'AWS, blank line between',
      `aws_secret_access_key=\n\n${'k'.repeat(40)}\n`,
      `aws_secret_access_key=\n\n${'k'.repeat(40)}\n`,
    ],
    [
      'PEM bundle: key, then certificate',
      '-----BEGIN PRIVATE KEY-----\nk1\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nc1\n-----END CERTIFICATE-----\n',
      '[REDACTED:private-key]\n-----BEGIN CERTIFICATE-----\nc1\n-----END CERTIFICATE-----\n',
    ],
    [
      'PEM bundle: a certificate END inside the key block',
      '-----BEGIN RSA PRIVATE KEY-----\nk1\n-----END CERTIFICATE-----\nk2\n-----END RSA PRIVATE KEY-----\nok\n',
      '[REDACTED:private-key]\nok\n',
    ],
  ];
  it.each(multiLine)('%s', (_name, text, redacted) => {
    expect(new Redactor().redact(text)).toBe(redacted);
    const stream = new StreamRedactor(new Redactor());
    expect([...text].map((c) => stream.push(c)).join('') + stream.end()).toBe(redacted);
  });

  it('runs shapes without an anchor (user patterns) on all text', () => {
    const r = new Redactor();
    r.addShape({ kind: 'pattern', pattern: /password=\S+/g });
    expect(r.redact('a\nuser password=hunter22 ok\n')).toBe('a\nuser [REDACTED:pattern] ok\n');
  });

  it('finds short literals (stride 1) and literals among non-Latin-1 text', () => {
    const r = new Redactor([]);
    r.addLiteral('abcd');
    r.addLiteral('пароль-секрет');
    expect(r.redact('xabcdy — пароль-секрет — ✓')).toBe('x[REDACTED:secret]y — [REDACTED:secret] — ✓');
  });
});

describe('StreamRedactor never misses a secret split across chunks', () => {
  const r0 = () => {
    const r = new Redactor();
    r.addLiteral('literal-secret-value-42', 'secret');
    r.addLiteral('tiny', 'short');
    r.addShape({ kind: 'pattern', pattern: /password=\S+/g });
    return r;
  };
  const text = [
    'start line',
    'the literal-secret-value-42 is here and tiny too',
    `b64 ${Buffer.from('x:literal-secret-value-42').toString('base64')}`,
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAA',
    'AAAAsecondline',
    '-----END OPENSSH PRIVATE KEY-----',
    'Authorization:',
    '  Bearer next-line-token-123',
    `gh ghp_${'a1B2'.repeat(9)} and jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9`,
    'postgres://admin:pa55word@db.internal:5432/app password=hunter22',
    'end without newline literal-secret-value-42',
  ].join('\n');
  const whole = r0().redact(text);

  it('the whole-text result has no secret', () => {
    for (const s of [
      'literal-secret-value-42',
      'tiny',
      'b3BlbnNz',
      'AAAAsecond',
      'next-line-token',
      'a1B2a1B2',
      'pa55word',
      'hunter22',
    ])
      expect(whole).not.toContain(s);
  });

  it.each([1, 2, 3, 5, 7, 13, 64])('chunks of %i characters give the same text and counts', (size) => {
    const r = r0();
    const stream = new StreamRedactor(r);
    let out = '';
    for (let i = 0; i < text.length; i += size) out += stream.push(text.slice(i, i + size));
    out += stream.end();
    expect(out).toBe(whole);
    const wholeCounts = (() => {
      const w = r0();
      w.redact(text);
      return w.counts;
    })();
    expect(r.counts).toEqual(wholeCounts);
  });

  it('random splits, many times', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 200; round++) {
      const stream = new StreamRedactor(r0());
      let out = '';
      let i = 0;
      while (i < text.length) {
        const n = 1 + Math.floor(rand() * 80);
        out += stream.push(text.slice(i, i + n));
        i += n;
      }
      out += stream.end();
      expect(out).toBe(whole);
    }
  });
});

describe('the prefilter agrees with a full scan', () => {
  it('gives the same result as running every regex over every line', () => {
    const r = new Redactor();
    for (let i = 0; i < 50; i++) r.addLiteral(`secret-number-${i}-${'x'.repeat(i % 7)}`);
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const pick = i % 11;
      if (pick === 0) lines.push(`user secret-number-${i % 50}-${'x'.repeat((i % 50) % 7)} logged in`);
      else if (pick === 1) lines.push(`token ghp_${String(i).padStart(36, 'Z')}`);
      else if (pick === 2) lines.push(`key AKIA${String(i).padStart(16, 'Q')}`);
      else lines.push(`2026-01-01T00:00:${i % 60} INFO request_id=${i} path=/api/v1/items status=200`);
    }
    const text = lines.join('\n');
    // The reference: the literal alternation and each shape over the whole text.
    const ref = new Redactor();
    for (let i = 0; i < 50; i++) ref.addLiteral(`secret-number-${i}-${'x'.repeat(i % 7)}`);
    const expected = lines.map((line) => ref.redact(line)).join('\n');
    expect(r.redact(text)).toBe(expected);
    expect(r.counts).toEqual(ref.counts);
  });
});

describe('StreamRedactor over bytes', () => {
  it('gives the same text for byte chunks split anywhere, multi-byte characters included', () => {
    const r = () => {
      const x = new Redactor();
      x.addLiteral('geheim-wert-ü-42', 'secret');
      return x;
    };
    const text = `ä line\nthe geheim-wert-ü-42 here ✓\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\ntail ü`;
    const whole = r().redact(text);
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size < 40; size += 3) {
      const stream = new StreamRedactor(r());
      let out = '';
      for (let i = 0; i < bytes.length; i += size) out += stream.push(bytes.subarray(i, i + size));
      out += stream.end();
      expect(out).toBe(whole);
    }
  });
});

describe('isSecretConfigValue', () => {
  it.each([
    ['RAILS_ENV', 'production', false],
    ['REGION', 'eu', false],
    ['WEB_CONCURRENCY', '3', false],
    ['FEATURE_FLAG', 'true', false],
    ['LOG_LEVEL', 'info', false],
    ['APP_NAME', 'fetlife-prod', false],
    ['SECRET_KEY_BASE', 'production', true],
    ['PAPERTRAIL_API_TOKEN', 'abcd', true],
    ['API_KEY', 'true', false],
    ['DATABASE_URL', 'postgres://u:p@db/x', true],
    ['SENTRY', 'https://public@sentry.example.com/1', true],
    ['SIGNING', 'k3y-v4lu3-8f9a', true],
  ])('%s=%s → %s', (name, value, expected) => {
    expect(isSecretConfigValue(name, value)).toBe(expected);
  });
});

describe('StreamRedactor keeps what it holds, not the caller’s buffer', () => {
  it('a byte chunk without a line break, its buffer then reused, comes out as it was', () => {
    const s = new StreamRedactor(new Redactor());
    const buffer = Buffer.from('token=abc ');
    expect(s.push(buffer)).toBe('');
    buffer.write('XXXXXXXXXX');
    expect(s.push(Buffer.from('rest\n'))).toBe('token=[REDACTED:url-secret] rest\n');
  });
});

describe('shapes met in review of the bundles', () => {
  it.each([
    [
      '{"url":"https:\\/\\/deploy:pw@db.example.com\\/x"}',
      '{"url":"https:\\/\\/[REDACTED:url-credentials]@db.example.com\\/x"}',
    ],
    [
      `export AWS_SECRET_ACCESS_KEY=\\\n  ${'A'.repeat(40)}`,
      'export AWS_SECRET_ACCESS_KEY=\\\n  [REDACTED:aws-secret-key]',
    ],
    ['src=https%3A%2F%2Fu%3Ap%2540w%40h%2Fc', 'src=https%3A%2F%2F[REDACTED:url-credentials]%40h%2Fc'],
    ['src=https%3a%2f%2fu%3apw%40h', 'src=https%3a%2f%2f[REDACTED:url-credentials]%40h'],
    ['src=https%3A%2F%2Fh%2Fp%3Fa%3Ab%40c', 'src=https%3A%2F%2Fh%2Fp%3Fa%3Ab%40c'],
    ['authorization:\n  mode: Webhook\n  webhook:\n', 'authorization:\n  mode: Webhook\n  webhook:\n'],
    ['Authorization:\n  Bearer abc', 'Authorization:\n  Bearer [REDACTED:authorization]'],
  ])('%j', (text, redacted) => {
    expect(new Redactor().redact(text)).toBe(redacted);
  });
});
