import { describe, expect, it } from 'vitest';
import type { UpdateRequest } from '../../src/config-update/inputs.ts';
import {
  buildCall,
  buildPlan,
  credentialHeaderValues,
  describeCall,
  describeHeader,
  describePlan,
} from '../../src/config-update/plan.ts';
import { selectFlyTargets, selectKamalTargets, type Target } from '../../src/config-update/targets.ts';

const request = (extra: Partial<UpdateRequest> = {}): UpdateRequest => ({
  method: 'POST',
  headers: {},
  body: undefined,
  authToken: undefined,
  ...extra,
});
const flyTarget: Target = {
  id: 'e784',
  region: 'ams',
  url: 'https://a.test/u',
  machineId: 'e784',
  state: 'started',
};
const kamalTarget: Target = {
  id: 'h',
  region: undefined,
  url: 'https://h.test/u',
  machineId: undefined,
  state: undefined,
};

describe('buildCall', () => {
  it.each([
    [request(), flyTarget, { 'fly-force-instance-id': 'e784' }],
    [request(), kamalTarget, {}],
    [request({ authToken: 'tkn' }), kamalTarget, { authorization: 'Bearer tkn' }],
    [request({ body: '{"a":1}' }), kamalTarget, { 'content-type': 'application/json' }],
    [request({ body: 'plain' }), kamalTarget, {}],
    [
      request({ body: '{"a":1}', headers: { 'Content-Type': 'text/x' } }),
      kamalTarget,
      { 'Content-Type': 'text/x' },
    ],
    [request({ headers: { 'X-A': '1' } }), flyTarget, { 'X-A': '1', 'fly-force-instance-id': 'e784' }],
  ])('%o to %o sends headers %o', (req, target, headers) => {
    const call = buildCall(req, target);
    expect(call.headers).toEqual(headers);
    expect(call.url).toBe(target.url);
    expect(call.body).toBe(req.body);
  });
});

describe('describing the request', () => {
  it.each([
    ['authorization', 'Bearer abc', 'authorization: Bearer [REDACTED]'],
    ['X-Api-Key', 'abc', 'X-Api-Key: [REDACTED]'],
    ['X-Auth-Token', 'abc', 'X-Auth-Token: [REDACTED]'],
    ['Cookie', 'a=b', 'Cookie: [REDACTED]'],
    ['X-Reason', 'deploy', 'X-Reason: deploy'],
  ])('%s: %s → %s', (name, value, shown) => {
    expect(describeHeader(name, value)).toBe(shown);
  });

  it('treats the values of credential headers as secrets', () => {
    expect(
      credentialHeaderValues({ 'X-Reason': 'deploy', 'X-Api-Key': 'k1', Authorization: 'Token t2' }),
    ).toEqual(['k1', 'k1', 'Token t2', 't2']);
  });

  it('shows method, URL, headers and a body preview, never the token', () => {
    const call = buildCall(
      request({ authToken: 'sekret-token', body: `{"x":"${'y'.repeat(300)}"}` }),
      flyTarget,
    );
    const lines = describeCall(call);
    expect(lines[0]).toBe('POST https://a.test/u');
    expect(lines).toContain('  authorization: Bearer [REDACTED]');
    expect(lines.at(-1)).toMatch(/^ {2}body: \{"x":"y+… \(308 bytes\)$/);
    expect(lines.join('\n')).not.toContain('sekret-token');
  });

  it('describes a fly plan: request once with a machine placeholder, then every target', () => {
    const machines = [
      { id: 'm1', name: 'm1', state: 'started', region: 'ams', instance_id: 'v' },
      { id: 'm2', name: 'm2', state: 'stopped', region: 'fra', instance_id: 'v' },
    ];
    const selected = selectFlyTargets(machines, 'https://a.test/u', {
      regions: [],
      processGroup: undefined,
      stoppedMachines: 'skip',
    }).selected;
    expect(describePlan('fly', buildPlan(request(), selected)).map(String)).toEqual([
      'Dry run: would update 1 machine; nothing is sent to them.',
      'Request:',
      '  POST https://a.test/u',
      '    fly-force-instance-id: <machine id>',
      'Targets:',
      '  m1 (ams): POST https://a.test/u',
      '  m2 (fra): skipped (machine is stopped; stopped-machines is skip)',
    ]);
  });

  it('describes a kamal plan with one URL per target', () => {
    const plan = buildPlan(
      request({ method: 'PUT' }),
      selectKamalTargets(['https://b.test/u', 'https://a.test/u']),
    );
    expect(describePlan('kamal', plan).map(String)).toEqual([
      'Dry run: would update 2 hosts; nothing is sent to them.',
      'Request:',
      '  PUT <the URL of each target>',
      'Targets:',
      '  a.test: PUT https://a.test/u',
      '  b.test: PUT https://b.test/u',
    ]);
  });
});
