import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Challenge,
  coversScopes,
  mergeScopes,
  parseChallenges,
  parseScope,
  pickChallenge,
} from '../../src/providers/registry/challenge.ts';
import { grantedActions } from '../../src/providers/registry/distribution.ts';

/** `WWW-Authenticate` as RFC 7235 §4.1 writes it: several challenges, quoted values with commas. */

const bearer = (params: Record<string, string>): Challenge => ({ scheme: 'bearer', params });

describe('parseChallenges', () => {
  it.each<[string | undefined, Challenge[]]>([
    [undefined, []],
    ['', []],
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"',
      [bearer({ realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull' })],
    ],
    ['Basic realm="basic-realm"', [{ scheme: 'basic', params: { realm: 'basic-realm' } }]],
    // The issue's header: the Basic realm must not replace the Bearer one.
    [
      'Bearer realm="https://auth.example/token",service="reg", Basic realm="x"',
      [
        bearer({ realm: 'https://auth.example/token', service: 'reg' }),
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
    [
      'Basic realm="x", Bearer realm=https://auth.example/token, service=reg',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        bearer({ realm: 'https://auth.example/token', service: 'reg' }),
      ],
    ],
    [
      'Bearer realm="https://a/t",scope="repository:a:pull repository:b:pull,push",error="insufficient_scope"',
      [
        bearer({
          realm: 'https://a/t',
          scope: 'repository:a:pull repository:b:pull,push',
          error: 'insufficient_scope',
        }),
      ],
    ],
    [
      'Bearer realm="with, comma and \\"quote\\"", service="s"',
      [bearer({ realm: 'with, comma and "quote"', service: 's' })],
    ],
    ['BEARER REALM="r"', [bearer({ realm: 'r' })]],
    ['Negotiate abc==, Bearer realm="r"', [{ scheme: 'negotiate', params: {} }, bearer({ realm: 'r' })]],
    ['Bearer realm="unterminated', [bearer({ realm: 'unterminated' })]],
    [',,Bearer  realm = "r" ,, ', [bearer({ realm: 'r' })]],
    // RFC 7230 §7: empty list elements are allowed, also between the scheme and its first parameter.
    ['Bearer ,realm="https://a/token"', [bearer({ realm: 'https://a/token' })]],
    ['Bearer , ,realm="r", ,service="s"', [bearer({ realm: 'r', service: 's' })]],
    ['Basic, Bearer realm="r"', [{ scheme: 'basic', params: {} }, bearer({ realm: 'r' })]],
    // A token68 blob ending in `=` is not a parameter without a value.
    ['Negotiate abc=', [{ scheme: 'negotiate', params: {} }]],
    [
      'Negotiate abc=, Basic realm="x"',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
  ])('%j', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

describe('pickChallenge', () => {
  it.each<[string, string | undefined]>([
    ['Bearer realm="https://a/t",service="s", Basic realm="x"', 'https://a/t'],
    ['Basic realm="x", Bearer realm="https://a/t"', 'https://a/t'],
    ['Basic realm="x"', 'x'],
    ['Bearer service="no realm", Basic realm="x"', 'x'],
    ['Negotiate, NTLM', undefined],
  ])('%s → realm %s', (header, realm) => {
    expect(pickChallenge(parseChallenges(header))?.params.realm).toBe(realm);
  });
});

// RFC 7230 token characters, and quoted values of any printable text with commas, quotes and backslashes.
const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,10}$/);
const challengeArb = fc.record({
  scheme: token,
  params: fc.dictionary(
    token.map((k) => k.toLowerCase()),
    fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\\', '=', 'é', '/', ':') }),
    { maxKeys: 4 },
  ),
});
const space = fc.constantFrom('', ' ', '  ', '\t');

describe('parseChallenges, for any list of challenges', () => {
  it('reads back each challenge and its parameters, whatever the spacing', () => {
    fc.assert(
      fc.property(fc.array(challengeArb, { minLength: 1, maxLength: 4 }), space, space, (list, s1, s2) => {
        // `Scheme, Other` is a list of bare schemes; each generated challenge gets a parameter so the list is the one meant.
        const withParams = list.map((c) =>
          Object.keys(c.params).length > 0 ? c : { ...c, params: { realm: 'r' } },
        );
        const header = withParams
          .map(
            (c) =>
              `${c.scheme} ${Object.entries(c.params)
                .map(([k, v]) => `${k}${s1}=${s1}"${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`)
                .join(`,${s2}`)}`,
          )
          .join(`,${s2}`);
        expect(parseChallenges(header)).toEqual(
          withParams.map((c) => ({ scheme: c.scheme.toLowerCase(), params: c.params })),
        );
      }),
    );
  });

  it('empty list elements change nothing (RFC 7230 §7)', () => {
    const empties = fc.constantFrom(',', ', ,', ',,', ' , ,');
    fc.assert(
      fc.property(
        fc.array(challengeArb, { minLength: 1, maxLength: 3 }),
        empties,
        empties,
        (list, e1, e2) => {
          const withParams = list.map((c) =>
            Object.keys(c.params).length > 0 ? c : { ...c, params: { realm: 'r' } },
          );
          const header = withParams
            .map(
              (c) =>
                `${c.scheme} ${e1}${Object.entries(c.params)
                  .map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`)
                  .join(e2)}`,
            )
            .join(e2);
          expect(parseChallenges(header)).toEqual(
            withParams.map((c) => ({ scheme: c.scheme.toLowerCase(), params: c.params })),
          );
        },
      ),
    );
  });

  it('never throws and always ends, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        const challenges = parseChallenges(header);
        expect(Array.isArray(challenges)).toBe(true);
      }),
    );
  });
});

describe('what a token grants', () => {
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  it.each<[string, { scope?: string } | undefined, string, string[] | undefined]>([
    [
      'a JWT access claim',
      undefined,
      jwt({ access: [{ type: 'repository', name: 'a/b', actions: ['pull'] }] }),
      ['pull'],
    ],
    [
      'a JWT granting push',
      undefined,
      jwt({ access: [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }] }),
      ['pull', 'push'],
    ],
    [
      'a JWT for another repository',
      undefined,
      jwt({ access: [{ type: 'repository', name: 'a/c', actions: ['push'] }] }),
      [],
    ],
    ['a JWT with no access claim', undefined, jwt({ sub: 'x' }), undefined],
    ['an OAuth2 scope field', { scope: 'repository:a/b:pull repository:x:push' }, 'opaque', ['pull']],
    ['an opaque token', {}, 'djE6YWNtZQ==', undefined],
    ['a broken JWT', undefined, 'a.b.c', undefined],
  ])('%s', (_label, answer, tokenText, expected) => {
    const granted = grantedActions(answer, tokenText, 'a/b');
    expect(granted === undefined ? undefined : [...granted].sort()).toEqual(expected);
  });

  it.each([
    ['repository:a/b:pull,push', { type: 'repository', name: 'a/b', actions: ['pull', 'push'] }],
    ['repository:localhost:5000/a:pull', { type: 'repository', name: 'localhost:5000/a', actions: ['pull'] }],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['nonsense', undefined],
  ])('scope %s', (scope, expected) => {
    expect(parseScope(scope)).toEqual(expected);
  });
});

describe('scopes asked of the token server', () => {
  it.each([
    [['repository:a:push,pull', 'repository:a:pull'], ['repository:a:push,pull']],
    [
      ['repository:a:pull', 'repository:b:pull', 'repository:a:push'],
      ['repository:a:pull,push', 'repository:b:pull'],
    ],
    [
      ['odd', 'repository:a:pull', 'odd'],
      ['odd', 'repository:a:pull'],
    ],
  ])('%j merge to %j', (scopes, expected) => {
    expect(mergeScopes(scopes)).toEqual(expected);
  });
  it.each([
    [['repository:a:push,pull'], ['repository:a:pull,push'], true],
    [['repository:a:pull'], ['repository:a:pull,push'], false],
    [['repository:a:pull,push'], ['repository:b:pull'], false],
    [[], [], true],
  ])('%j covers %j: %s', (held, wanted, expected) => {
    expect(coversScopes(held, wanted)).toBe(expected);
  });
});
