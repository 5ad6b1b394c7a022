import { describe, expect, it } from 'vitest';
import { redactedData } from '../../src/core/redacted-data.ts';
import { Secrets } from '../../src/core/secrets.ts';

/** Data from outside, redacted field by field before our wording is put around it (review point 5). */
describe('redactedData', () => {
  const secrets = new Secrets(() => undefined);
  secrets.add('on');
  const redact = secrets.redactor;

  it('redacts every string at any depth and keeps the rest as it is', () => {
    const time = new Date('2026-01-02T03:04:05Z');
    const data = {
      target: 'on',
      time,
      count: 3,
      passed: true,
      missing: undefined,
      none: null,
      gate: { failedRequired: ['lights on', 'x'] },
      rows: [{ title: 'switch on', exit: 0 }],
    };
    expect(redactedData(data, redact)).toEqual({
      target: '[REDACTED:secret]',
      time,
      count: 3,
      passed: true,
      missing: undefined,
      none: null,
      gate: { failedRequired: ['lights [REDACTED:secret]', 'x'] },
      rows: [{ title: 'switch [REDACTED:secret]', exit: 0 }],
    });
    expect(redactedData(data, redact).time).toBe(time);
  });

  it('keeps the string values of our own fields and our own values inside strings', () => {
    const data = { status: 'on', rows: [{ outcome: 'on', note: 'deploy_on on' }], title: 'on' };
    expect(redactedData(data, redact, ['status', 'outcome'], ['deploy_on'])).toEqual({
      status: 'on',
      rows: [{ outcome: 'on', note: 'deploy_on [REDACTED:secret]' }],
      title: '[REDACTED:secret]',
    });
  });

  it('leaves the data it was given unchanged', () => {
    const data = { title: 'switch on' };
    redactedData(data, redact);
    expect(data).toEqual({ title: 'switch on' });
  });
});
