import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUrl, serverView } from '../../src/core/inputs.ts';

/**
 * Duplicates as the endpoint's server sees them (RFC 3986 §6.2.2 on the WHATWG parse), while
 * the URL used is always the one given. Generated URLs are rewritten in ways that keep the
 * request the same (case of scheme and host, the default port, escapes of unreserved
 * characters and the case of escape digits, a fragment, an empty `?`, a trailing slash) and in
 * ways that do not (another character, a reserved character escaped): the first must give the
 * same key, the second another one.
 */

const UNRESERVED = 'abcxyzABCXYZ0189-._~';
const hex = (char: string) => char.charCodeAt(0).toString(16).padStart(2, '0');

interface Parts {
  scheme: 'http' | 'https';
  host: string;
  port: number | undefined;
  segments: string[];
  query: string | undefined;
}

const segment = fc
  .array(fc.oneof(fc.constantFrom(...UNRESERVED), fc.constantFrom('%2F', '%20', '%3F', ':', '@', '!')), {
    minLength: 1,
    maxLength: 6,
  })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const parts: fc.Arbitrary<Parts> = fc.record({
  scheme: fc.constantFrom('http' as const, 'https' as const),
  host: fc.constantFrom('a.test', 'web-1.example.com', '127.0.0.1', '[::1]'),
  port: fc.option(fc.constantFrom(8080, 3000), { nil: undefined }),
  segments: fc.array(segment, { maxLength: 4 }),
  query: fc.option(
    fc
      .array(fc.constantFrom(...UNRESERVED, '=', '&', '%2F'), { minLength: 1, maxLength: 8 })
      .map((cs) => cs.join('')),
    { nil: undefined },
  ),
});

function render(p: Parts, host = p.host, scheme: string = p.scheme, port = p.port, segments = p.segments) {
  const path = segments.length === 0 ? '' : `/${segments.join('/')}`;
  return `${scheme}://${host}${port === undefined ? '' : `:${port}`}${path}${p.query === undefined ? '' : `?${p.query}`}`;
}

type Rewrite = {
  upperScheme: boolean;
  upperHost: boolean;
  defaultPort: boolean;
  escape: number;
  lowerHexDigits: boolean;
  fragment: string | undefined;
  emptyQuery: boolean;
  trailingSlash: boolean;
};

/** One rewrite that leaves the request the server receives as it was. */
const sameRequest: fc.Arbitrary<Rewrite> = fc.record({
  upperScheme: fc.boolean(),
  upperHost: fc.boolean(),
  defaultPort: fc.boolean(),
  escape: fc.nat(),
  lowerHexDigits: fc.boolean(),
  fragment: fc.option(fc.constantFrom('#', '#again', '#/x'), { nil: undefined }),
  emptyQuery: fc.boolean(),
  trailingSlash: fc.boolean(),
});

function rewrite(p: Parts, how: Rewrite): string {
  const scheme = how.upperScheme ? p.scheme.toUpperCase() : p.scheme;
  const host = how.upperHost ? p.host.toUpperCase() : p.host;
  const port = p.port ?? (how.defaultPort ? (p.scheme === 'https' ? 443 : 80) : undefined);
  // Escape the n-th unreserved character of the path (`~` as `%7E` or `%7e`).
  let n = p.segments.length === 0 ? -1 : how.escape % Math.max(1, p.segments.join('').length);
  const segments = p.segments.map((s) =>
    s.replace(/%[0-9A-F]{2}|./g, (c) => {
      if (c.length === 3) return how.lowerHexDigits ? c.toLowerCase() : c;
      if (n-- !== 0 || !UNRESERVED.includes(c)) return c;
      const escaped = `%${hex(c)}`;
      return how.lowerHexDigits ? escaped : escaped.toUpperCase();
    }),
  );
  // A trailing slash, or `/` for an empty path.
  if (how.trailingSlash) segments.push('');
  let url = render(p, host, scheme, port, segments);
  if (p.query === undefined && how.emptyQuery) url += '?';
  return url + (how.fragment ?? '');
}
describe('serverView: one endpoint, however it is written', () => {
  it('gives the same key to every rewrite the server cannot tell apart', () => {
    fc.assert(
      fc.property(parts, sameRequest, (p, how) => {
        const given = render(p);
        const other = rewrite(p, how);
        expect(checkUrl('urls', other)).toBe(other);
        expect(serverView(other)).toBe(serverView(given));
      }),
    );
  });

  it('gives another key when a character or a reserved escape differs', () => {
    fc.assert(
      fc.property(
        parts.filter((p) => p.segments.length > 0),
        fc.nat(),
        (p, at) => {
          const given = render(p);
          const last = p.segments.length - 1;
          const changed = [...p.segments];
          changed[last] = `${changed[last]}${at % 2 === 0 ? 'q' : '%2F'}`;
          expect(serverView(render(p, p.host, p.scheme, p.port, changed))).not.toBe(serverView(given));
          // `/a%2Fb` is one segment, `/a/b` two: the escape of a reserved character is kept.
          const split = [...p.segments.slice(0, last), 'x', 'y'];
          const joined = [...p.segments.slice(0, last), 'x%2Fy'];
          expect(serverView(render(p, p.host, p.scheme, p.port, split))).not.toBe(
            serverView(render(p, p.host, p.scheme, p.port, joined)),
          );
        },
      ),
    );
  });

  it.each([
    ['https://a.test/u', 'HTTPS://A.TEST:443/u?#x'],
    ['http://a.test', 'http://a.test/'],
    ['http://a.test/a~b', 'http://a.test/a%7Eb'],
    ['http://a.test/a~b', 'http://a.test/a%7eb'],
    ['http://a.test/%41', 'http://a.test/A'],
    ['http://a.test/x%2fy', 'http://a.test/x%2Fy'],
    ['http://a.test/update/', 'http://a.test/update'],
    ['http://a.test/u?k=%7E', 'http://a.test/u?k=~'],
  ])('%s and %s are one endpoint', (a, b) => expect(serverView(a)).toBe(serverView(b)));

  it.each([
    ['http://a.test/x/y', 'http://a.test/x%2Fy'],
    ['http://a.test/u?a=1', 'http://a.test/u?a=2'],
    ['http://a.test/u', 'https://a.test/u'],
    ['http://a.test:8080/u', 'http://a.test/u'],
  ])('%s and %s are two endpoints', (a, b) => expect(serverView(a)).not.toBe(serverView(b)));

  it.each(['https://a.test/update/', 'https://a.test/a%7Eb', 'HTTPS://A.test:443/u?'])(
    '%s is used as given',
    (url) => expect(checkUrl('urls', url)).toBe(url),
  );
});
