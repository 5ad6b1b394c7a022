import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/core/redact.ts';
import {
  isPlainValue,
  isSecretConfigValue,
  isSecretOverride,
  Secrets,
  urlSecrets,
} from '../../src/core/secrets.ts';

/** Issue 12: the shapes that slipped past, and values that are (not) secrets. */

describe('shapes recognised without knowing the value', () => {
  const cases: [string, string, string, string][] = [
    // [name, text, what must go, what must stay]
    [
      'Go http.Header',
      'req map[Authorization:[Bearer tok-abc.123]] sent',
      'tok-abc.123',
      'map[Authorization:[',
    ],
    [
      'JSON header list',
      '{"authorization":["Bearer tok-abc.123"]}',
      'tok-abc.123',
      '{"authorization":["Bearer ',
    ],
    ['CGI variable', 'HTTP_AUTHORIZATION: Bearer tok-abc.123', 'tok-abc.123', 'HTTP_AUTHORIZATION: Bearer '],
    ['URL password holding @', 'postgres://app:p@ss-word@db/app', 'p@ss-word', '@db/app'],
    ['URL password holding two @', 'redis://u:a@b@c@cache:6379/0 up', 'a@b@c', '@cache:6379/0 up'],
    [
      'S3 presigned URL',
      'GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=9f8e7d6c5b4a&X-Amz-Expires=60',
      '9f8e7d6c5b4a',
      '&X-Amz-Expires=60',
    ],
    [
      'CloudFront signature',
      'https://d.cloudfront.net/a?Expires=1&Signature=abcDEF~x-&Key-Pair-Id=K',
      'abcDEF~x-',
      '&Key-Pair-Id=K',
    ],
    [
      'Azure SAS',
      'https://acct.blob.core.windows.net/c/b?sv=2024&sig=AbC%2Bd%3D&se=x',
      'AbC%2Bd%3D',
      '&se=x',
    ],
    ['query token', 'https://h/x?token=qwerty123&page=2', 'qwerty123', '&page=2'],
    ['query access_token', 'https://h/x?access_token=qwerty123#top', 'qwerty123', '#top'],
    ['query api_key', 'curl https://h/x?api_key=qwerty123 -s', 'qwerty123', ' -s'],
  ];
  it.each(cases)('%s', (_name, text, gone, kept) => {
    const out = new Redactor().redact(text);
    expect(out).not.toContain(gone);
    expect(out).toContain(kept);
    expect(out).toContain('[REDACTED:');
  });

  it('leaves look-alikes alone', () => {
    const r = new Redactor();
    for (const text of [
      'https://tati.shibari.photo/a?page=2&sort=name',
      'tokens=3 keys=2 signatures_ok=true',
      'mytoken=abc',
      'http://localhost:8080/health',
      'see user@example.com',
    ])
      expect(r.redact(text)).toBe(text);
  });

  it('counts a value once when a literal and a shape both see it', () => {
    const r = new Redactor();
    r.addLiteral('qwerty123', 'url');
    expect(r.redact('https://u:qwerty123@h/x?token=qwerty123')).toBe(
      'https://[REDACTED:url-credentials]@h/x?token=[REDACTED:url-secret]',
    );
    expect(r.total).toBe(2);
  });
});

describe('short secrets the user named', () => {
  it.each(['abc', '7', 'ü', '.*', '54321'])('%s is redacted and masked once', (value) => {
    const masked: string[] = [];
    const secrets = new Secrets((v) => masked.push(v));
    secrets.add(value);
    expect(masked).toEqual([value]);
    const out = secrets.redact(`a ${value} b ${value}`);
    expect(out.replace(/\[REDACTED:[a-z-]+\]/g, '\0')).not.toContain(value);
    expect(secrets.redactor.total).toBeGreaterThanOrEqual(2);
  });

  it('a guessed value is dropped when trivial, kept otherwise', () => {
    const masked: string[] = [];
    const secrets = new Secrets((v) => masked.push(v));
    secrets.addGuessed('true');
    secrets.addGuessed('10');
    secrets.addGuessed('7788');
    secrets.addGuessed('k3y-v4lu3-8f9a');
    expect(masked).toEqual(['7788', 'k3y-v4lu3-8f9a']);
  });

  it('a short literal does not break the shape around it', () => {
    const r = new Redactor();
    r.addLiteral('t');
    const out = r.redact('?token=abcdef123456');
    expect(out).not.toContain('abcdef123456');
  });

  it('a literal is never looked for inside a marker', () => {
    const r = new Redactor();
    r.addLiteral('E');
    expect(r.redact('Authorization: Bearer xyzzy E')).toBe(
      'Authorization: Bearer [REDACTED:authorization] [REDACTED:secret]',
    );
  });
});

describe('plain values are not secrets (issue 12 §5)', () => {
  it.each([
    ['INSTANCE', 'tati', false],
    ['ASSET_HOST', 'https://tati.shibari.photo', false],
    ['ASSET_HOST', 'tati.shibari.photo', false],
    ['CDN', 'https://cdn.example.com/assets/v2', false],
    ['RATIO', '1.5', false],
    ['DATABASE_URL', 'postgres://u:p@db/x', true],
    ['SENTRY', 'https://public@sentry.example.com/1', true],
    ['UPLOADS', 'https://b.s3.amazonaws.com/?X-Amz-Signature=abc', true],
    ['SIGNING', 'k3y-v4lu3-8f9a', true],
    ['SECRET_KEY_BASE', 'production', true],
    ['API_KEY', 'true', false],
  ])('%s=%s → %s', (name, value, expected) => {
    expect(isSecretConfigValue(name, value)).toBe(expected);
  });

  it.each([
    ['DB_PASSWORD', '54321', true],
    ['DEPLOY_KEY', '7788', true],
    ['FEATURE_KEY', 'on', false],
    ['INSTANCE', 'tati', false],
    ['ASSET_HOST', 'https://tati.shibari.photo', false],
  ])('override %s=%s → %s', (name, value, expected) => {
    expect(isSecretOverride(name, value)).toBe(expected);
  });

  it.each(['tati', 'https://tati.shibari.photo', 'eu-west', '42', 'a.b.c'])('%s is plain', (v) => {
    expect(isPlainValue(v)).toBe(true);
  });
});

describe('urlSecrets', () => {
  it.each([
    [
      'https://u:p%40ss@h/x',
      [{ value: 'p@ss', spellings: ['p%40ss', Buffer.from('u:p@ss').toString('base64')] }],
    ],
    ['https://h/x?X-Amz-Signature=abc&X-Amz-Date=1', [{ value: 'abc', spellings: [] }]],
    ['https://h/x?sig=AbC%2Bd%3D&se=x', [{ value: 'AbC+d=', spellings: ['AbC%2Bd%3D'] }]],
    [
      'https://h/x?token=t1&api_key=k2&page=3',
      [
        { value: 't1', spellings: [] },
        { value: 'k2', spellings: [] },
      ],
    ],
    ['https://h/x', []],
    ['not a url', []],
  ])('%s', (url, expected) => {
    expect(urlSecrets(url)).toEqual(expected);
  });
});

describe('what goes to ::add-mask:: (issue 12 §3, review points 4 and 6)', () => {
  const masksOf = (add: (s: Secrets) => void) => {
    const masked: string[] = [];
    const secrets = new Secrets((v) => masked.push(v));
    add(secrets);
    return { masked, secrets };
  };

  it('a URL password: the decoded value alone; the typed and Basic spellings are only redacted', () => {
    const { masked, secrets } = masksOf((s) => {
      for (const { value, spellings } of urlSecrets('https://deploy:p%40ss%2Fw0rd@h/x'))
        s.add(value, 'url', spellings);
    });
    expect(masked).toEqual(['p@ss/w0rd']);
    const basic = Buffer.from('deploy:p@ss/w0rd').toString('base64');
    expect(secrets.redact(`typed p%40ss%2Fw0rd basic ${basic} plain p@ss/w0rd`)).toBe(
      'typed [REDACTED:url] basic [REDACTED:url] plain [REDACTED:url]',
    );
  });

  it('a multi-line secret goes whole; its short lines rewrite no ordinary text', () => {
    const value = '{\n  "k": "v4lue-geheim-77",\n  a\n}';
    const { masked, secrets } = masksOf((s) => s.add(value));
    expect(masked).toEqual([value]);
    expect(secrets.redact('a {b} c\n')).toBe('a {b} c\n');
    expect(secrets.redact(`x ${value} y`)).toBe('x [REDACTED:secret] y');
    // A line long enough to be a secret on its own is still found alone.
    expect(secrets.redact('"k": "v4lue-geheim-77",')).toBe('[REDACTED:secret]');
  });

  it.each([
    ['&amp; &lt; &gt;', 'p&ss<w>rd-1', ['p&amp;ss&lt;w&gt;rd-1', 'p&amp;ss&lt;w>rd-1']],
    ['&quot; and &#34;', 'say"hi"-42x', ['say&quot;hi&quot;-42x', 'say&#34;hi&#34;-42x']],
    ['&#39;, &#x27; and &#039;', "it's-s3cret", ['it&#39;s-s3cret', 'it&#x27;s-s3cret', 'it&#039;s-s3cret']],
  ])('HTML-escaped forms (%s) are redacted and never masked', (_name, value, escaped) => {
    const { masked, secrets } = masksOf((s) => s.add(value));
    expect(masked).toEqual([value]);
    for (const form of escaped) expect(secrets.redact(`<p>${form}</p>`)).toBe('<p>[REDACTED:secret]</p>');
  });
});
