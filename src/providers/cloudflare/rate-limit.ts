import { type Item, parseItem, parseList, Token } from 'structured-headers';
import type { RateLimitRules } from '../../core/rate-limit.ts';
import { formatWait, MIN_RETRY_AFTER_MS, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Cloudflare's API rate limit (developers.cloudflare.com/fundamentals/api/reference/limits,
 * "Rate limiting headers"; changelog 2025-09-03 "new headers for rate limiting"): 1200 requests
 * per five minutes per user; past it every call is refused with 429 for the next five minutes.
 * Every answer carries `Ratelimit`, a list of limit items (`"default";r=50;t=30`: `r` requests
 * remaining, `t` seconds until the window resets) and `Ratelimit-Policy`, a list of policy items
 * (`"burst";q=100;w=60`: quota `q` per window of `w` seconds), both RFC 8941 structured-field
 * lists (draft-ietf-httpapi-ratelimit-headers) that may name several policies; a 429 adds
 * `retry-after` (seconds, rounded up, until capacity is back). The wait is `retry-after`; without
 * it, the `t` of the binding limit (`bindingLimit`); without both, the documented five minutes.
 */

export const CLOUDFLARE_BLOCK_MS = 5 * 60_000;

/** One item of a `Ratelimit` field, with its policy's quota when `Ratelimit-Policy` names it. */
export interface RateLimitItem {
  /** The policy's name (a string or token item). */
  name: string;
  /** `r`: requests remaining in the window. */
  remaining: number;
  /** `t`: ms until the window resets; absent when the item has none. */
  resetMs?: number;
  /** `q` of the `Ratelimit-Policy` item of the same name. */
  quota?: number;
}

/**
 * The limit that binds among the items of a `Ratelimit` field (`"burst";r=0;t=5, "daily";r=100;t=3600`):
 * an exhausted one (`r=0`), the one resetting last when several are; else the one with the least
 * remaining relative to its quota (`q` from `ratelimitPolicy`), or the least remaining when no
 * quota is known. Items that are not a string or token with a non-negative integer `r` are
 * ignored, as are a non-integer `t` or `q`; a member that does not parse at all drops only itself.
 * Undefined when no item is usable.
 */
export function bindingLimit(
  ratelimit: string | undefined,
  ratelimitPolicy?: string,
): RateLimitItem | undefined {
  const quotas = new Map<string, number>();
  for (const [value, params] of listItems(ratelimitPolicy)) {
    const name = itemName(value);
    const quota = count(params.get('q'));
    if (name !== undefined && quota !== undefined && quota > 0 && !quotas.has(name)) quotas.set(name, quota);
  }
  const items: RateLimitItem[] = [];
  for (const [value, params] of listItems(ratelimit)) {
    const name = itemName(value);
    const remaining = count(params.get('r'));
    if (name === undefined || remaining === undefined) continue;
    const reset = count(params.get('t'));
    const quota = quotas.get(name);
    items.push({
      name,
      remaining,
      ...(reset === undefined ? {} : { resetMs: reset * 1000 }),
      ...(quota === undefined ? {} : { quota }),
    });
  }
  const exhausted = items.filter((i) => i.remaining === 0);
  if (exhausted.length > 0)
    return exhausted.reduce((a, b) => ((b.resetMs ?? -1) > (a.resetMs ?? -1) ? b : a));
  const share = (i: RateLimitItem) => (i.quota === undefined ? i.remaining : i.remaining / i.quota);
  return items.reduce<RateLimitItem | undefined>(
    (a, b) => (a === undefined || share(b) < share(a) ? b : a),
    undefined,
  );
}

/**
 * The items of a structured-field list (inner lists skipped). A field that does not parse whole
 * is read member by member, split at the commas outside quoted strings, keeping the members that parse.
 */
function listItems(field: string | undefined): Item[] {
  if (!field?.trim()) return [];
  try {
    return parseList(field).filter((member): member is Item => !Array.isArray(member[0]));
  } catch {
    const members = field.match(/(?:"(?:[^"\\]|\\.)*"?|[^,"])+/g) ?? [];
    return members.flatMap((member) => {
      try {
        return [parseItem(member.replace(/^[ \t]+|[ \t]+$/g, ''))];
      } catch {
        return [];
      }
    });
  }
}

/** A policy name: a string or token item (a token stringifies to itself). */
function itemName(value: Item[0]): string | undefined {
  if (typeof value === 'string') return value;
  return value instanceof Token ? value.toString() : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export const cloudflareRateLimit: RateLimitRules = {
  limited({ status, headers }, _count, now) {
    if (status !== 429) return undefined;
    const after = retryAfterMs(headers, now);
    const policy = headers['ratelimit-policy'] ? `, Ratelimit-Policy ${headers['ratelimit-policy']}` : '';
    if (after !== undefined)
      return { waitMs: after, limit: `HTTP 429, retry-after ${formatWait(after)}${policy}` };
    const binding = bindingLimit(headers.ratelimit, headers['ratelimit-policy']);
    if (binding?.resetMs !== undefined) {
      const waitMs = Math.max(binding.resetMs, MIN_RETRY_AFTER_MS);
      return {
        waitMs,
        limit: `HTTP 429, Ratelimit ${headers.ratelimit} (quota ${JSON.stringify(binding.name)} back in ${formatWait(waitMs)})${policy}`,
      };
    }
    return {
      waitMs: CLOUDFLARE_BLOCK_MS,
      limit: `HTTP 429, no retry-after: blocked for five minutes${policy}`,
    };
  },
};
