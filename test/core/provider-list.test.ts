import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/core/errors.ts';
import { checkList, providerList } from '../../src/core/provider-list.ts';

describe('checkList', () => {
  it.each([
    [[], undefined, { ok: true, entries: [] }],
    [[{ id: 'a' }, {}], undefined, { ok: true, entries: [{ id: 'a' }, {}] }],
    [{ droplets: [{ id: 1 }], links: {} }, 'droplets', { ok: true, entries: [{ id: 1 }] }],
    [
      [{ id: 'a' }, null],
      undefined,
      { ok: false, problem: 'answered a list whose entry 2 of 2 is null, not an object' },
    ],
    [
      ['a', { id: 'b' }, 3, [4]],
      undefined,
      {
        ok: false,
        problem:
          'answered a list whose entry 1 of 4 is a string, not an object (3 of its entries are not objects)',
      },
    ],
    [
      { rrsets: [{}, false] },
      'rrsets',
      { ok: false, problem: 'answered a "rrsets" list whose entry 2 of 2 is a boolean, not an object' },
    ],
    [
      { rrsets: null },
      'rrsets',
      { ok: false, problem: 'answered "rrsets" as null where the API documents a list' },
    ],
    [{}, 'rrsets', { ok: false, problem: 'answered "rrsets" as nothing where the API documents a list' }],
    [
      [{}],
      'droplets',
      { ok: false, problem: 'answered a list where the API documents an object with a "droplets" list' },
    ],
    [{ id: 1 }, undefined, { ok: false, problem: 'answered an object where the API documents a list' }],
    [undefined, undefined, { ok: false, problem: 'answered nothing where the API documents a list' }],
    ['[]', undefined, { ok: false, problem: 'answered a string where the API documents a list' }],
  ])('%j at %s', (body, field, expected) => {
    expect(checkList(body, field)).toEqual(expected);
  });

  /** Any JSON value an entry could be: the object the API documents, or anything else. */
  const entry = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    fc.constant(null),
    fc.string(),
    fc.double(),
    fc.boolean(),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
  );
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

  it('accepts a list exactly when every entry is an object, and names the first one that is not', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 20 }),
        fc.option(fc.constantFrom('droplets', 'result')),
        (list, field) => {
          const body = field === null ? list : { [field]: list, other: 1 };
          const checked = checkList(body, field ?? undefined);
          const bad = list.map((e, i) => [e, i] as const).filter(([e]) => !isObject(e));
          if (bad.length === 0) {
            expect(checked).toEqual({ ok: true, entries: list });
            return;
          }
          expect(checked.ok).toBe(false);
          const problem = checked.ok ? '' : checked.problem;
          expect(problem).toContain(`whose entry ${bad[0]![1] + 1} of ${list.length} is `);
          expect(
            problem.endsWith(
              bad.length > 1 ? `(${bad.length} of its entries are not objects)` : 'not an object',
            ),
          ).toBe(true);
        },
      ),
    );
  });

  it('never puts a value of the answer in its words', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ minLength: 8 }), fc.constant(null)), { minLength: 1 }),
        (list) => {
          const checked = checkList(list);
          for (const value of list)
            if (typeof value === 'string' && !checked.ok) expect(checked.problem).not.toContain(value);
        },
      ),
    );
  });
});

describe('providerList', () => {
  it('hands back the entries of a good list', () => {
    expect(
      providerList(
        { artifacts: [{ id: 1 }] },
        {
          provider: 'GitHub',
          operation: 'artifacts.list',
          request: 'GET /repos/a/b/actions/artifacts',
          field: 'artifacts',
        },
      ),
    ).toEqual([{ id: 1 }]);
  });

  it('throws one ApiError naming the provider and the request, not retried', () => {
    const error = (() => {
      try {
        providerList([{ id: 'm1' }, null], {
          provider: 'Fly Machines',
          operation: 'Machines_list',
          request: 'GET /v1/apps/a/machines',
          requestId: 'r-1',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ provider: 'Fly Machines', operation: 'Machines_list', retryable: false });
    expect((error as Error).message).toBe(
      'Fly Machines GET /v1/apps/a/machines failed: answered a list whose entry 2 of 2 is null, not an object (request id r-1)',
    );
  });
});

describe('checkList unique field', () => {
  it.each([
    [[{ id: 'm1' }, { id: 'm2' }, { id: 'm1' }], 'entries 1 and 3 of 3 have the same "id"'],
    [[{ id: 7 }, { id: 7 }], 'entries 1 and 2 of 2 have the same "id"'],
  ])('refuses %j, naming the entries and the field, never the value', (list, problem) => {
    expect(checkList(list, undefined, {}, 'id')).toEqual({
      ok: false,
      problem: `answered a list whose ${problem}; each must appear once, or one of them would be acted on twice`,
    });
  });

  it('takes a list whose ids differ, and one without the rule whatever its ids', () => {
    expect(checkList([{ id: 'm1' }, { id: 'M1' }], undefined, {}, 'id')).toMatchObject({ ok: true });
    expect(checkList([{ id: 'm1' }, { id: 'm1' }])).toMatchObject({ ok: true });
  });
});

describe('checkList field rules', () => {
  const rules = { id: 'text', region: 'text', config: 'object?' } as const;
  it.each([
    [[{}], 'answered a list whose entry 1 of 1 has no "id" where the API documents a non-empty string'],
    [
      [
        { id: 'm1', region: 'ams' },
        { id: 'm2', region: null },
      ],
      'answered a list whose entry 2 of 2 has "region" as null where the API documents a non-empty string',
    ],
    [
      [{ id: 1, region: 'ams' }],
      'answered a list whose entry 1 of 1 has "id" as a number where the API documents a non-empty string',
    ],
    [
      [{ id: '', region: 'ams' }],
      'answered a list whose entry 1 of 1 has "id" as an empty string where the API documents a non-empty string',
    ],
    [
      [{ id: 'm1', region: 'ams', config: [] }],
      'answered a list whose entry 1 of 1 has "config" as a list where the API documents an object, or none',
    ],
  ])('%j is refused', (list, problem) => {
    expect(checkList(list, undefined, rules)).toEqual({ ok: false, problem });
  });

  it.each([
    [[{ id: 'm1', region: 'ams' }]],
    [[{ id: 'm1', region: 'ams', config: null, other: [1] }]],
    [[{ id: 'm1', region: 'ams', config: { metadata: {} } }]],
  ])('%j is taken', (list) => {
    expect(checkList(list, undefined, rules)).toEqual({ ok: true, entries: list });
  });

  /** The rule as the API documents it, written out again for the property. */
  const allowed: Record<string, (v: unknown) => boolean> = {
    text: (v) => typeof v === 'string' && v.length > 0,
    number: (v) => typeof v === 'number',
    'list?': (v) => v === undefined || v === null || Array.isArray(v),
  };
  const ruleSet = { id: 'number', name: 'text', tags: 'list?' } as const;
  const value = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.string({ maxLength: 3 }),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  );
  const entry = fc
    .record({ id: value, name: value, tags: value })
    .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));

  it('takes a list exactly when every entry fits every rule, and names the first entry and field that do not', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.boolean(), (list, wrapped) => {
        const body = wrapped ? { droplets: list } : list;
        const checked = checkList(body, wrapped ? 'droplets' : undefined, ruleSet);
        const misfits = list.flatMap((e, i) =>
          Object.entries(ruleSet)
            .filter(([field, rule]) => !allowed[rule]!((e as Record<string, unknown>)[field]))
            .map(([field]) => ({ i, field })),
        );
        const first = misfits[0];
        if (!first) {
          expect(checked).toEqual({ ok: true, entries: list });
          return;
        }
        expect(checked.ok).toBe(false);
        const problem = checked.ok ? '' : checked.problem;
        expect(problem).toContain(`whose entry ${first.i + 1} of ${list.length} has `);
        expect(problem).toMatch(
          new RegExp(`has (no "${first.field}"|"${first.field}" as .+) where the API documents`),
        );
      }),
    );
  });
});
