/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1): one header may carry several,
 * comma-separated (`Bearer realm="…",service="…", Basic realm="x"`), and a
 * fetch client joins repeated header lines the same way. A new challenge
 * starts where a token after a comma is not followed by `=`; a quoted value
 * may hold commas, spaces and `\`-escapes.
 *
 * google/go-containerregistry reads one challenge per header line
 * (pkg/v1/remote/internal/authchallenge/authchallenge.go) and, when several
 * come, takes the first it can answer (pkg/v1/remote/transport/ping.go,
 * pickFromMultipleChallenges); `pickChallenge` prefers Bearer over Basic,
 * because a token's granted scope can be read before anything is written.
 */

export interface Challenge {
  /** Lower-case auth scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Lower-case parameter names; values unquoted and unescaped. */
  params: Record<string, string>;
}

// RFC 7230 tchar: any visible ASCII except separators.
const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
// RFC 7235 token68: a credential blob after the scheme (`Negotiate abc==`).
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (chars: string) => {
    while (i < header.length && chars.includes(header[i]!)) i++;
  };
  const token = () => {
    const start = i;
    while (i < header.length && TCHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  /** Whether a `name =` parameter starts at i (else a new challenge or token68 does). */
  const paramAhead = () => {
    const saved = i;
    const name = token();
    skip(' \t');
    let yes = name !== '' && header[i] === '=';
    if (yes) {
      i++;
      skip(' \t');
      // A parameter has a value; `abc=` or `abc==` (ended by a comma or the header) is a token68 blob.
      yes = i < header.length && header[i] !== ',' && header[i] !== '=';
    }
    i = saved;
    return yes;
  };
  const value = () => {
    if (header[i] !== '"') {
      // RFC 7235 wants a token here; a bare URL (`realm=https://…`) is read whole up to the next comma or space.
      const start = i;
      while (i < header.length && !' \t,'.includes(header[i]!)) i++;
      return header.slice(start, i);
    }
    let out = '';
    for (i++; i < header.length && header[i] !== '"'; i++) {
      if (header[i] === '\\' && i + 1 < header.length) i++;
      out += header[i];
    }
    i++; // the closing quote (or the end of an unterminated string)
    return out;
  };

  while (i < header.length) {
    skip(' \t,');
    const scheme = token();
    if (!scheme) {
      i++; // not a challenge: step over the stray character
      continue;
    }
    const params: Record<string, string> = {};
    skip(' \t');
    if (header[i] === ',') {
      // RFC 7230 §7: empty list elements (`Bearer ,realm=…`) count for nothing; a parameter after them is still this challenge's.
      const comma = i;
      skip(' \t,');
      if (!paramAhead()) i = comma;
    }
    if (!paramAhead()) {
      const blob = TOKEN68.exec(header.slice(i));
      if (blob && !TCHAR.test(header[i + blob[0].length] ?? ',')) i += blob[0].length;
    }
    while (paramAhead()) {
      const name = token().toLowerCase();
      skip(' \t');
      i++; // '='
      skip(' \t');
      const v = value();
      if (!(name in params)) params[name] = v;
      skip(' \t');
      if (header[i] !== ',') break;
      const afterComma = i;
      skip(' \t,');
      if (!paramAhead()) {
        i = afterComma;
        break;
      }
    }
    challenges.push({ scheme: scheme.toLowerCase(), params });
  }
  return challenges;
}

/** The challenge to answer: Bearer with a realm first, else Basic; undefined when neither is offered. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return (
    challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ??
    challenges.find((c) => c.scheme === 'basic')
  );
}

/**
 * A token scope `repository:<name>:<actions>` (distribution docs, spec/auth/scope.md).
 * The name may hold a port (`repository:localhost:5000/a:pull`), so the actions
 * are after the last colon.
 */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

export function parseScope(scope: string): Scope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** A challenge's `scope` parameter may list several scopes separated by spaces. */
export function scopesOf(challenge: Challenge): string[] {
  return (challenge.params.scope ?? '').split(' ').filter(Boolean);
}

/**
 * Scopes with one entry per resource, its actions united, in first-seen
 * order: `repository:a:push,pull` and `repository:a:pull` ask for
 * `repository:a:push,pull` once. Unparseable scopes are kept as they are.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const merged = new Map<string, { type: string; name: string; actions: string[] } | string>();
  for (const scope of scopes) {
    const parsed = parseScope(scope);
    if (!parsed) {
      merged.set(scope, scope);
      continue;
    }
    const key = `${parsed.type}:${parsed.name}`;
    const known = merged.get(key);
    if (typeof known === 'object') known.actions = [...new Set([...known.actions, ...parsed.actions])];
    else merged.set(key, parsed);
  }
  return [...merged.values()].map((s) =>
    typeof s === 'string' ? s : `${s.type}:${s.name}:${s.actions.join(',')}`,
  );
}

/** Whether `held` already asks for every action of every scope in `wanted`. */
export function coversScopes(held: readonly string[], wanted: readonly string[]): boolean {
  const have = new Set(
    held.flatMap((s) => {
      const p = parseScope(s);
      return p ? p.actions.map((a) => `${p.type}:${p.name}:${a}`) : [s];
    }),
  );
  return wanted.every((s) => {
    const p = parseScope(s);
    return p ? p.actions.every((a) => have.has(`${p.type}:${p.name}:${a}`)) : have.has(s);
  });
}
