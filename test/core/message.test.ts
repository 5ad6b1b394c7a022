import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/core/cancellation.ts';
import { ApiError, InputError, messageOf, StepError } from '../../src/core/errors.ts';
import {
  ComposedError,
  composedOf,
  joinMessages,
  Message,
  msg,
  own,
  redactMessage,
  redactPieces,
} from '../../src/core/message.ts';
import { retryLine, waitLine } from '../../src/core/rate-limit.ts';
import { Secrets } from '../../src/core/secrets.ts';

function secretsOf(...values: string[]): Secrets {
  const secrets = new Secrets(() => undefined);
  for (const value of values) secrets.add(value);
  return secrets;
}

/** Mixed strings as template and values: our words whole, each value redacted, straddles redacted whole. */
describe('redactMessage', () => {
  it.each([
    {
      name: 'a short secret inside our words leaves them whole; the value holding it is redacted',
      secret: 'on',
      message: () =>
        new StepError('app.create', msg`create Heroku app ${'tati-on'}`, new Error('x')).composed,
      shown: 'Could not create Heroku app tati-[REDACTED:secret]: x',
    },
    {
      name: 'a secret in a provider value, in its JSON \\u form',
      secret: 'pässwort',
      message: () => msg`Heroku answered ${'PATCH /apps/web'} with HTTP 422: ${'{"v":"p\\u00e4sswort"}'}`,
      shown: 'Heroku answered PATCH /apps/web with HTTP 422: {"v":"[REDACTED:secret]"}',
    },
    {
      name: 'a secret in a provider value, HTML-escaped',
      secret: "it's<x>",
      message: () => msg`answered: ${'<p>it&#39;s&lt;x&gt;</p>'}`,
      shown: 'answered: <p>[REDACTED:secret]</p>',
    },
    {
      name: 'a secret across a value and our words: the composed text is redacted whole',
      secret: 'tati: x',
      message: () => msg`app ${'tati'}: ${'x'}`,
      shown: 'app [REDACTED:secret]',
    },
    {
      name: 'a secret across two values: redacted whole',
      secret: 'ab',
      message: () => msg`${'a'}${'b'} ok`,
      shown: '[REDACTED:secret] ok',
    },
    {
      name: 'our `token=` before a value that then reads as a credential: redacted whole',
      secret: 'unrelated',
      message: () => msg`called with token=${'abc123'}`,
      shown: 'called with token=[REDACTED:url-secret]',
    },
    {
      name: 'own values are our words',
      secret: 'ku',
      message: () => msg`rate limited by ${own('Heroku')}, waiting ${own('30 s')} (${'ku-limit'})`,
      shown: 'rate limited by Heroku, waiting 30 s ([REDACTED:secret]-limit)',
    },
    {
      name: 'a secret wholly inside our words is no leak and is left',
      secret: 'Could',
      message: () => msg`Could not read ${'x'}`,
      shown: 'Could not read x',
    },
  ])('$name', ({ secret, message, shown }) => {
    expect(redactMessage(message(), secretsOf(secret).redactor)).toBe(shown);
  });

  it('a plain string is redacted whole, as before', () => {
    expect(redactMessage('Could not go on, none', secretsOf('on').redactor)).toBe(
      'Could not go [REDACTED:secret], n[REDACTED:secret]e',
    );
  });

  it('says when it fell back to the whole text', () => {
    const { redactor } = secretsOf('e: v');
    expect(redactPieces(msg`name ${'e'}: ${'v'}`, redactor).whole).toBe(true);
    expect(redactPieces(msg`name ${'e'}, ${'v'}`, redactor).whole).toBe(false);
  });

  it('checking the composed text does not count as redactions', () => {
    const { redactor } = secretsOf('on');
    redactMessage(msg`Could not go ${'on'}`, redactor);
    expect(redactor.total).toBe(1);
  });
});

describe('messages of our errors and lines', () => {
  const { redactor } = secretsOf('on', 'ss', 'ing');

  it.each([
    {
      name: 'StepError around an ApiError',
      error: () =>
        new StepError(
          'app.create',
          msg`create Heroku app ${'on-web'}`,
          new ApiError({
            provider: 'Heroku',
            operation: 'app.create',
            request: 'POST /apps',
            status: 422,
            providerMessage: 'Name on-web is already taken',
            requestId: 'req-on',
            retryable: false,
            attempts: 2,
          }),
        ),
      shown:
        'Could not create Heroku app [REDACTED:secret]-web: Heroku answered POST /apps with HTTP 422: Name [REDACTED:secret]-web is already taken (2 attempts, request id req-[REDACTED:secret])',
    },
    {
      name: 'a refused credential',
      error: () =>
        new ApiError({
          provider: 'Fly Machines',
          operation: 'machines.list',
          request: 'GET /v1/apps/smooth/machines',
          status: 401,
          providerMessage: 'unauthorized session',
          retryable: false,
          attempts: 1,
          refusedCredential: 'fly-api-token',
          hint: 'Check the token',
        }),
      shown:
        'fly-api-token was refused by Fly Machines (401: unauthorized se[REDACTED:secret]i[REDACTED:secret]). Check the token',
    },
    {
      name: 'an input error',
      error: () => new InputError('image', msg`must be an image reference, not "${'ssh://x'}"`),
      shown: `Input 'image' must be an image reference, not "[REDACTED:secret]h://x"`,
    },
    {
      name: 'a cancel note',
      error: () => new CancelledError('SIGINT', msg`${own(2)} unit(s) changed, ${'lessons'} sent back`),
      shown: 'cancelled (SIGINT): 2 unit(s) changed, le[REDACTED:secret][REDACTED:secret]s sent back',
    },
    {
      name: 'an AggregateError joins its errors',
      error: () =>
        new AggregateError([new ComposedError(msg`host ${'on'} refused`), new Error('plain on')], 'x'),
      shown: 'host [REDACTED:secret] refused; plain [REDACTED:secret]',
    },
  ])('$name', ({ error, shown }) => {
    expect(redactMessage(composedOf(error()), redactor)).toBe(shown);
    expect(messageOf(error())).toBe(String(composedOf(error())));
  });

  it('a message changed after it was composed is one value from outside', () => {
    const error = new ComposedError(msg`Could not ${'x'}`);
    error.message = 'Nothing done';
    expect(redactMessage(composedOf(error), redactor)).toBe('Noth[REDACTED:secret] d[REDACTED:secret]e');
  });

  it('retry and rate-limit lines keep our words', () => {
    expect(
      redactMessage(
        retryLine('Heroku', 'GET /apps/on', { waitMs: 400, limit: msg`HTTP 503 (retry 1 of 3)` }),
        redactor,
      ),
    ).toBe('retrying Heroku GET /apps/[REDACTED:secret] after HTTP 503 (retry 1 of 3), waiting 0.4 s');
    expect(
      redactMessage(
        waitLine('Heroku', { waitMs: 30_000, limit: 'HTTP 429, remaining on' }, 'app.info'),
        redactor,
      ),
    ).toBe(
      'rate limited by Heroku, waiting 30 s (HTTP 429, remain[REDACTED:secret] [REDACTED:secret]; app.info)',
    );
  });

  it('joinMessages keeps each item and our separators', () => {
    const joined = joinMessages([msg`a ${'on'}`, 'b on'], '; ');
    expect(joined).toBeInstanceOf(Message);
    expect(redactMessage(joined, redactor)).toBe('a [REDACTED:secret]; b [REDACTED:secret]');
  });
});
