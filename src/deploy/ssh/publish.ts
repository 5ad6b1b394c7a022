/**
 * How nginx reaches a container behind `proxy: nginx`: each container gets a
 * free host port of its own (so the new one can start beside the old), and
 * `run-args` says which way it listens there.
 *
 * - `--network host` (or `--net host`, `--network=host`): the app listens on
 *   the host directly, so it is told its port as `PORT`.
 * - one `-p`/`--publish` (`3000`, `8080:3000`, `0.0.0.0:8080:3000/tcp`...): the
 *   host side is replaced by `127.0.0.1:<free port>`, the container side kept
 *   (docs.docker.com/engine/network/port-publishing: `[host-ip:][host-port:]
 *   container-port[/protocol]`). Only loopback: traffic comes through nginx.
 *
 * Anything else cannot be reached on a port of its own and is refused at input
 * time: no publish and no host network, several publishes (which one is the
 * app?), `-P`/`--publish-all` (random ports nginx cannot know), a port range,
 * or udp. Pure functions over the `run-args` words (split on whitespace, as
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
    };

const PUBLISH_VALUE = /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?:(\d+)?:)?(\d+)(\/tcp)?$/;

interface Flag {
  name: string;
  value: string | undefined;
  from: number;
  to: number;
}

/** `-p`, `--publish`, `--network`/`--net` and `-P`/`--publish-all` flags of `run-args`, in order. */
function flagsOf(words: readonly string[]): Flag[] {
  const flags: Flag[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const long = /^--(publish|network|net)(?:=(.*))?$/.exec(word);
    if (long) {
      const value = long[2] ?? words[i + 1];
      flags.push({ name: long[1]!, value, from: i, to: long[2] === undefined ? i + 1 : i });
      if (long[2] === undefined) i++;
      continue;
    }
    if (word === '-P' || word === '--publish-all') {
      flags.push({ name: 'publish-all', value: undefined, from: i, to: i });
      continue;
    }
    const short = /^-p(.*)$/.exec(word);
    if (short) {
      const value = short[1] ? short[1].replace(/^=/, '') : words[i + 1];
      flags.push({ name: 'publish', value, from: i, to: short[1] ? i : i + 1 });
      if (!short[1]) i++;
    }
  }
  return flags;
}

/** Whether an `-e`/`--env` word sets `PORT` (`-e PORT=1`, `-ePORT=1`, `--env=PORT`, `-e PORT` from the host's env). */
function setsPort(all: readonly string[]): boolean {
  return all.some((word, i) => {
    const inline = /^(?:-e|--env=)(.+)$/.exec(word);
    const value = inline ? inline[1] : word === '-e' || word === '--env' ? all[i + 1] : undefined;
    return value !== undefined && /^PORT(?:=|$)/.test(value);
  });
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
  if (hostNetwork && setsPort(words(runArgs)))
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
  const match = PUBLISH_VALUE.exec(flag.value ?? '');
  if (!match)
    return {
      error: `must publish one tcp port as -p [ip:][host-port:]container-port; got -p ${flag.value ?? ''}`,
    };
  return { kind: 'publish', containerPort: `${match[2]}${match[3] ?? ''}`, from: flag.from, to: flag.to };
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
    `--publish 127.0.0.1:${port}:${reach.containerPort}`,
    ...all.slice(reach.to + 1),
  ].join(' ');
}
