import { joinMessages, type Message, msg } from '../core/message.ts';
import type { DeploySettings } from './inputs.ts';

/**
 * What one deploy changes: the target identity every history lookup is scoped
 * to. One GitHub environment (`production`) is shared by every app, service
 * and host set deployed under it, so the environment alone says nothing about
 * which image ran where.
 *
 * Recorded in each deployment's payload as `target` (the kind) and
 * `target_name`, and in its description in words (describeIdentity).
 */
export interface TargetIdentity {
  kind: 'fly' | 'heroku' | 'ssh';
  /**
   * fly: `app`, or `app/group` with a process group; heroku: the app; ssh:
   * `service@host:port,...` (sorted, user left out: the same containers), or
   * `service@tag:<tag>` when the hosts come from a DigitalOcean tag.
   */
  name: string;
}

export function identityOfSettings(target: DeploySettings['target']): TargetIdentity {
  if (target.kind === 'fly')
    return { kind: 'fly', name: target.processGroup ? `${target.app}/${target.processGroup}` : target.app };
  if (target.kind === 'heroku') return { kind: 'heroku', name: target.app };
  const hosts = target.hosts.map((h) => `${h.host}:${h.port}`).sort();
  return {
    kind: 'ssh',
    name: `${target.service}@${hosts.length > 0 ? hosts.join(',') : `tag:${target.digitalocean.tag}`}`,
  };
}

const KINDS = new Set(['fly', 'heroku', 'ssh']);

/** The identity a deployment's payload records; undefined when it records none (older deployments). */
export function identityOf(payload: Record<string, unknown>): TargetIdentity | undefined {
  const { target, target_name: name } = payload;
  if (typeof target !== 'string' || !KINDS.has(target) || typeof name !== 'string' || name === '')
    return undefined;
  return { kind: target as TargetIdentity['kind'], name };
}

export type IdentityMatch = 'same' | 'other' | 'unknown';

/**
 * Whether a recorded deployment was made for `wanted`.
 *
 * - Same kind and name: `same`. A Fly deploy of the whole app also counts for
 *   one of its process groups, as it changed that group's machines too; a
 *   deploy of one group never counts for the whole app or another group.
 * - A deployment that records a name, or a kind, that differs: `other`.
 * - A deployment that records no `target_name` (made before deployments
 *   named their target): `unknown`. These are treated conservatively: never
 *   picked for `previous` or a re-run, and refused when a deployment id or
 *   tag names one, with its image offered as `rollback-to` instead. Guessing
 *   wrong deploys another app's image and reports success (issue 13); refusing
 *   costs the user one more input, and only until the next deploy is recorded.
 */
export function matchIdentity(payload: Record<string, unknown>, wanted: TargetIdentity): IdentityMatch {
  const recorded = identityOf(payload);
  if (!recorded)
    return typeof payload.target === 'string' && payload.target !== wanted.kind ? 'other' : 'unknown';
  if (recorded.kind !== wanted.kind) return 'other';
  if (recorded.name === wanted.name) return 'same';
  if (wanted.kind === 'fly' && wanted.name.startsWith(`${recorded.name}/`) && !recorded.name.includes('/'))
    return 'same';
  return 'other';
}

/** The identity in words, for messages and deployment descriptions: `fly app smooth (process group worker)`. */
export function describeIdentity(identity: TargetIdentity): Message {
  if (identity.kind === 'heroku') return msg`heroku app ${identity.name}`;
  if (identity.kind === 'fly') {
    const slash = identity.name.indexOf('/');
    return slash < 0
      ? msg`fly app ${identity.name}`
      : msg`fly app ${identity.name.slice(0, slash)} (process group ${identity.name.slice(slash + 1)})`;
  }
  const at = identity.name.indexOf('@');
  const service = identity.name.slice(0, at);
  const where = identity.name.slice(at + 1);
  return where.startsWith('tag:')
    ? msg`ssh service ${service} on the DigitalOcean hosts tagged ${where.slice(4)}`
    : msg`ssh service ${service} on ${joinMessages(where.split(','), ', ')}`;
}

/** Who a deployment was made for, in words, also when it records only its kind. */
export function describeOwner(payload: Record<string, unknown>): Message {
  const recorded = identityOf(payload);
  if (recorded) return describeIdentity(recorded);
  return typeof payload.target === 'string'
    ? msg`a ${payload.target} target it does not name`
    : msg`no named target`;
}
