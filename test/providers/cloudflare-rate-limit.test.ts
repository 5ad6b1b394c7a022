import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CloudflareLimit,
  cloudflareRateLimited,
  createCloudflareFake,
} from '../../sandbox/fakes/cloudflare.ts';
import { CloudflareHttp } from '../../src/providers/cloudflare/client.ts';
import { bindingLimit } from '../../src/providers/cloudflare/rate-limit.ts';

/**
 * Cloudflare's `Ratelimit` / `Ratelimit-Policy` lists (RFC 8941, draft-ietf-httpapi-ratelimit-headers)
 * with several policies: the binding one is the exhausted policy (the one resetting last when several
 * are), else the least remaining relative to its quota; its `t` is the wait when a 429 has no retry-after.
 */

describe('bindingLimit', () => {
  it.each([
    ['nothing', undefined, undefined, undefined],
    ['an empty field', '', undefined, undefined],
    ['one item', '"default";r=0;t=30', undefined, { name: 'default', remaining: 0, resetMs: 30_000 }],
    [
      'the exhausted item, second in the list',
      '"burst";r=5;t=60, "daily";r=0;t=3600',
      undefined,
      { name: 'daily', remaining: 0, resetMs: 3_600_000 },
    ],
    [
      'the brief case: burst exhausted before daily',
      '"burst";r=0;t=5, "daily";r=100;t=3600',
      undefined,
      { name: 'burst', remaining: 0, resetMs: 5000 },
    ],
    [
      'of two exhausted items, the one resetting last',
      '"a";r=0;t=5, "b";r=0;t=50, "c";r=0;t=20',
      undefined,
      { name: 'b', remaining: 0, resetMs: 50_000 },
    ],
    [
      'the least remaining relative to its quota',
      '"default";r=100;t=200, "burst";r=10;t=40',
      '"default";q=1200;w=300, "burst";q=100;w=60',
      { name: 'default', remaining: 100, resetMs: 200_000, quota: 1200 },
    ],
    [
      'the least remaining when no quota is known',
      '"default";r=100;t=200, "burst";r=10;t=40',
      undefined,
      { name: 'burst', remaining: 10, resetMs: 40_000 },
    ],
    [
      'a token name, spaces and tabs around members',
      ' burst;r=0;t=9 ,\t"x";r=3 ',
      undefined,
      { name: 'burst', remaining: 0, resetMs: 9000 },
    ],
    // RFC 8941: parameters follow their item at once; a space before `;` makes the member malformed.
    [
      'a space before the parameters drops that member',
      'burst ;r=0;t=9, "x";r=3',
      undefined,
      { name: 'x', remaining: 3 },
    ],
    [
      'unknown and extra parameters (pk, a string t) kept apart',
      '"default";r=0;t="soon";pk=:YWJj:',
      undefined,
      { name: 'default', remaining: 0 },
    ],
    [
      'a malformed member dropped, the rest kept',
      '@bad;r=0;t=1, "ok";r=0;t=7',
      undefined,
      { name: 'ok', remaining: 0, resetMs: 7000 },
    ],
    [
      'a negative or decimal r ignored',
      '"a";r=-1;t=1, "b";r=1.5;t=2, "c";r=4;t=3',
      undefined,
      { name: 'c', remaining: 4, resetMs: 3000 },
    ],
    [
      'an inner list ignored',
      '("a" "b");r=0;t=1, "c";r=2;t=3',
      undefined,
      { name: 'c', remaining: 2, resetMs: 3000 },
    ],
    [
      'a quoted comma inside a name',
      '"a,b";r=0;t=4, @',
      undefined,
      { name: 'a,b', remaining: 0, resetMs: 4000 },
    ],
    ['a name that is neither string nor token', '1;r=0;t=4', undefined, undefined],
    ['the old unreadable form', 'default; r=zero', undefined, undefined],
  ] as const)('%s', (_, ratelimit, policy, expected) => {
    expect(bindingLimit(ratelimit, policy)).toEqual(expected);
  });

  it('never throws, and answers a usable item or nothing, for any text', () => {
    const alphabet = fc.constantFrom(...'"\\;=,() \t:*?abrtq019-.@'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet }), fc.string({ unit: alphabet }), (ratelimit, policy) => {
        const item = bindingLimit(ratelimit, policy);
        if (item === undefined) return;
        expect(Number.isSafeInteger(item.remaining) && item.remaining >= 0).toBe(true);
        if (item.resetMs !== undefined) expect(item.resetMs % 1000).toBe(0);
      }),
    );
  });

  const policyArb = fc.record({
    remaining: fc.nat(2000),
    resetS: fc.option(fc.nat(86_400), { nil: undefined }),
    quota: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    token: fc.boolean(),
    before: fc.constantFrom('', ' ', '  ', '\t '),
    extra: fc.constantFrom('', ';pk=:YWJj:', ';x="y"', ';flag'),
  });
  const malformed = fc.constantFrom('@bad;r=0;t=1', '=;r=0', '1a;r=0;t=9', ';;', '"n";r=0;;t=1');

  it('picks what the model picks among well-formed and malformed members', () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(6), malformed), { maxLength: 3 }),
        (policies, noise) => {
          const named = policies.map((p, i) => ({ ...p, name: `p${i}` }));
          const limitMembers = named.map(
            (p) =>
              `${p.before}${p.token ? p.name : JSON.stringify(p.name)};r=${p.remaining}${p.resetS === undefined ? '' : `;t=${p.resetS}`}${p.extra}`,
          );
          for (const [at, member] of noise) limitMembers.splice(at, 0, member);
          const policyMembers = named.flatMap((p) =>
            p.quota === undefined ? [] : [`${JSON.stringify(p.name)};q=${p.quota};w=60`],
          );
          const got = bindingLimit(limitMembers.join(','), policyMembers.join(', '));

          const share = (p: (typeof named)[number]) =>
            p.quota === undefined ? p.remaining : p.remaining / p.quota;
          const exhausted = named.filter((p) => p.remaining === 0);
          let want: (typeof named)[number] | undefined;
          for (const p of exhausted.length > 0 ? exhausted : named) {
            if (want === undefined) want = p;
            else if (exhausted.length > 0 ? (p.resetS ?? -1) > (want.resetS ?? -1) : share(p) < share(want))
              want = p;
          }
          expect(got?.name).toBe(want?.name);
          expect(got?.remaining).toBe(want?.remaining);
          expect(got?.resetMs).toBe(want?.resetS === undefined ? undefined : want.resetS * 1000);
        },
      ),
    );
  });
});

describe('the Cloudflare client against the fake', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  async function zonesWith(fault: ReturnType<typeof cloudflareRateLimited>) {
    const fake = createCloudflareFake({ token: 'c' });
    await fake.server.start();
    stops.push(() => fake.server.stop());
    fake.server.inject({ route: 'zones-get', fault });
    const slept: number[] = [];
    const lines: string[] = [];
    const cloudflare = new CloudflareHttp({
      baseUrl: `${fake.server.url}/client/v4`,
      token: 'c',
      redact: (t) => t,
      sleep: async (ms) => {
        slept.push(ms);
      },
      log: (line) => lines.push(String(line)),
    });
    const zones = await cloudflare.list({ operation: 'zones-get', method: 'GET', path: '/zones' });
    return { zones, slept, lines, fake };
  }

  const burstAndDefault: CloudflareLimit[] = [
    { name: 'default', remaining: 700, resetS: 240, quota: 1200, windowS: 300 },
    { name: 'burst', remaining: 0, resetS: 6, quota: 100, windowS: 60 },
  ];

  it('waits the exhausted policy of several when the 429 lost its retry-after', async () => {
    const { zones, slept, lines } = await zonesWith(
      cloudflareRateLimited(300, { limits: burstAndDefault, retryAfter: false }),
    );
    expect(zones).toEqual([]);
    expect(slept).toEqual([6000]);
    expect(lines).toEqual([
      expect.stringMatching(
        /^rate limited by Cloudflare, waiting 6 s \(HTTP 429, Ratelimit "default";r=700;t=240, "burst";r=0;t=6 \(quota "burst" back in 6 s\), Ratelimit-Policy "default";q=1200;w=300, "burst";q=100;w=60; /,
      ),
    ]);
  });

  it('still waits retry-after first, as Cloudflare sends it with every 429', async () => {
    const { slept } = await zonesWith(cloudflareRateLimited(9, { limits: burstAndDefault }));
    expect(slept).toEqual([9000]);
  });

  it('states the global limit on every answer, as the docs say Cloudflare does', async () => {
    const fake = createCloudflareFake({ token: 'c' });
    await fake.server.start();
    stops.push(() => fake.server.stop());
    const headers = async () => {
      const res = await fetch(`${fake.server.url}/client/v4/zones`, {
        headers: { authorization: 'Bearer c' },
      });
      await res.arrayBuffer();
      return [res.headers.get('ratelimit'), res.headers.get('ratelimit-policy')];
    };
    const [first, second] = [await headers(), await headers()];
    expect(first?.[0]).toMatch(/^"default";r=1199;t=\d+$/);
    expect(second?.[0]).toMatch(/^"default";r=1198;t=\d+$/);
    expect(first?.[1]).toBe('"default";q=1200;w=300');
    expect(bindingLimit(second?.[0] ?? '', second?.[1] ?? '')).toMatchObject({
      name: 'default',
      remaining: 1198,
      quota: 1200,
    });
  });
});
