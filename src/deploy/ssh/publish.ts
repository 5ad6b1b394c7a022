import { isIP } from 'node:net';

/**
 * How nginx reaches a container behind `proxy: nginx`: each container gets a
 * free host port of its own (so the new one can start beside the old), and
 * `run-args` says which way it listens there.
 *
 * - `--network host` (or `--net host`, `--network=host`): the app listens on
 *   the host directly, so it is told its port as `PORT`.
 * - one `-p`/`--publish` (`3000`, `8080:3000`, `[::1]:8080:3000/tcp`,
 *   `target=3000,published=8080`, `-itp 3000`...; `publishedPort`): the host
 *   side is replaced by `127.0.0.1:<free port>`, the container side kept
 *   (docs.docker.com/engine/network/port-publishing: `[host-ip:][host-port:]
 *   container-port[/protocol]`). Only loopback: traffic comes through nginx.
 *
 * Anything else cannot be reached on a port of its own and is refused at input
 * time: no publish and no host network, several publishes (which one is the
 * app?), `-P`/`--publish-all` (random ports nginx cannot know), a container
 * port range, udp/sctp, or a value Docker itself would refuse (port 65536, a
 * malformed IP...). Pure functions over the `run-args` words (split on whitespace, as
 * the host's shell splits unquoted text).
 */

export type Reach =
  | { kind: 'host-network' }
  | {
      kind: 'publish';
      /** The container side of the `-p`, e.g. `3000` or `3000/tcp`. */
      containerPort: string;
      /** Index of the first and last word of the `-p` flag in `run-args` words. */
      from: number;
      to: number;
      /** Flags grouped before `p` in one word (`-it` of `-itp 80`), kept in place. */
      keep?: string;
    };

interface Flag {
  name: string;
  value: string | undefined;
  from: number;
  to: number;
  keep?: string;
}

/** docker run's one-letter flags without a value (`-d -i -t -P`) and with one (docker/cli cli/command/container/opts.go). */
const SHORT_BOOLEAN = new Set(['d', 'i', 't', 'P']);
const SHORT_VALUE = new Set(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w']);

/**
 * `-p`, `--publish`, `--network`/`--net`, `-P`/`--publish-all` and `-e`/`--env` flags of
 * `run-args`, in order. One-letter flags group as pflag reads them (spf13/pflag
 * `parseShortArg`): `-itp 80` is `-i -t -p 80`, `-itp80` too, and the letters after a flag that
 * takes a value are its value (`-ePORT=1`, `-p=80`).
 */
function flagsOf(words: readonly string[]): Flag[] {
  const flags: Flag[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') break;
    const long = /^--(publish|network|net|env|publish-all)(?:=(.*))?$/.exec(word);
    if (long) {
      if (long[1] === 'publish-all') {
        flags.push({ name: 'publish-all', value: undefined, from: i, to: i });
        continue;
      }
      const value = long[2] ?? words[i + 1];
      const name = long[1] === 'env' ? 'env' : long[1]!;
      flags.push({ name, value, from: i, to: long[2] === undefined ? i + 1 : i });
      if (long[2] === undefined) i++;
      continue;
    }
    if (!/^-[^-]/.test(word)) continue;
    for (let c = 1; c < word.length; c++) {
      const letter = word[c]!;
      if (SHORT_BOOLEAN.has(letter)) {
        if (letter === 'P') flags.push({ name: 'publish-all', value: undefined, from: i, to: i });
        continue;
      }
      if (!SHORT_VALUE.has(letter)) break;
      const inline = word.slice(c + 1).replace(/^=/, '');
      const attached = c + 1 < word.length;
      const value = attached ? inline : words[i + 1];
      const keep = c > 1 ? word.slice(0, c) : undefined;
      const name = letter === 'p' ? 'publish' : letter === 'e' ? 'env' : letter;
      flags.push({ name, value, from: i, to: attached ? i : i + 1, ...(keep ? { keep } : {}) });
      if (!attached) i++;
      break;
    }
  }
  return flags;
}

const PUBLISH_FORM = '-p [ip:][host-port:]container-port[/tcp]';

/**
 * The container port of one `-p` value, read as Docker reads it (docker/go-connections
 * nat/nat.go `ParsePortSpec`: the last `:` part is the container port, the one before it the
 * host port, everything before that the IP, `[...]` around an IPv6 one; the protocol after `/`
 * in any case, `tcp` when absent; ports 0-65535), after docker/cli's `convertToStandardNotation`
 * turned a `target=80,published=8080,protocol=tcp` value into `8080:80/tcp`. nginx needs one tcp
 * port it can forward to: udp/sctp, a container port range and port 0 are refused too.
 */
export function publishedPort(value: string): { containerPort: string } | { error: string } {
  const refuse = (why: string) => ({
    error: `must publish one tcp port as ${PUBLISH_FORM}; got -p ${value} (${why})`,
  });
  let spec = value;
  if (spec.includes('=')) {
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of spec.split(',')) {
      const at = param.indexOf('=');
      if (at <= 0) return refuse(`${param} is not name=value`);
      params[param.slice(0, at)] = param.slice(at + 1);
    }
    spec = `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
  }
  const parts = spec.split(':');
  const last = parts.at(-1)!;
  const hostPort = parts.length >= 2 ? parts.at(-2)! : '';
  let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = last.indexOf('/');
  const port = slash < 0 ? last : last.slice(0, slash);
  const protocol = (slash < 0 ? '' : last.slice(slash + 1)).toLowerCase() || 'tcp';
  if (port === '') return refuse('no container port');
  if (protocol !== 'tcp')
    return refuse(
      ['udp', 'sctp'].includes(protocol)
        ? `nginx forwards tcp, not ${protocol}`
        : `unknown protocol ${protocol}`,
    );
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) return refuse(`${ip} is not an IP address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) return refuse(`${ip} is not an IP address`);
  if (hostPort !== '' && !portRange(hostPort)) return refuse(`host port ${hostPort} is not 0-65535`);
  const range = portRange(port);
  if (!range) return refuse(`container port ${port} is not 1-65535`);
  if (range[0] !== range[1]) return refuse(`container port range ${port}: nginx forwards to one port`);
  if (range[0] === 0) return refuse('container port 0');
  return { containerPort: `${range[0]}${slash < 0 ? '' : '/tcp'}` };
}

/** `8080` or `8000-8010` within 0-65535, as [start, end]; undefined otherwise. */
function portRange(text: string): [number, number] | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  return start <= 65535 && end <= 65535 && start <= end ? [start, end] : undefined;
}

/** Whether an `-e`/`--env` flag sets `PORT` (`-e PORT=1`, `-ePORT=1`, `--env=PORT`, `-e PORT` from the host's env). */
function setsPort(flags: readonly Flag[]): boolean {
  return flags.some((f) => f.name === 'env' && f.value !== undefined && /^PORT(?:=|$)/.test(f.value));
}

export function words(runArgs: string): string[] {
  return runArgs.trim() === '' ? [] : runArgs.trim().split(/\s+/);
}

/** How the container is reached, or why it cannot be (a sentence for the `run-args` error). */
export function reachOf(runArgs: string): Reach | { error: string } {
  const flags = flagsOf(words(runArgs));
  if (flags.some((f) => f.name === 'publish-all'))
    return { error: 'must not use -P/--publish-all with proxy nginx: nginx needs the port it forwards to' };
  const publishes = flags.filter((f) => f.name === 'publish');
  const hostNetwork = flags.some((f) => (f.name === 'network' || f.name === 'net') && f.value === 'host');
  if (hostNetwork && publishes.length > 0)
    return { error: 'must not combine --network host with -p: a host-network container publishes nothing' };
  if (hostNetwork && setsPort(flags))
    return {
      error:
        'must not set PORT with --network host and proxy nginx: the action sets PORT to the port nginx forwards to (docker run keeps the last -e PORT, so a PORT here would win)',
    };
  if (hostNetwork) return { kind: 'host-network' };
  if (publishes.length === 0)
    return {
      error:
        'must publish the app port with one -p <container port> or use --network host when proxy is nginx',
    };
  if (publishes.length > 1)
    return { error: 'must publish exactly one port with proxy nginx (the one nginx forwards to)' };
  const flag = publishes[0]!;
  const published = publishedPort(flag.value ?? '');
  if ('error' in published) return published;
  return {
    kind: 'publish',
    containerPort: published.containerPort,
    from: flag.from,
    to: flag.to,
    ...(flag.keep ? { keep: flag.keep } : {}),
  };
}

/**
 * `run-args` for a container behind the proxy on host port `port`: the `-p` rewritten to
 * `-p 127.0.0.1:<port>:<container port>`, or `PORT=<port>` added for a host-network container.
 */
export function proxiedRunArgs(runArgs: string, reach: Reach, port: number): string {
  if (reach.kind === 'host-network') return [`--env PORT=${port}`, ...words(runArgs)].join(' ');
  const all = words(runArgs);
  return [
    ...all.slice(0, reach.from),
    ...(reach.keep ? [reach.keep] : []),
    `--publish 127.0.0.1:${port}:${reach.containerPort}`,
    ...all.slice(reach.to + 1),
  ].join(' ');
}
