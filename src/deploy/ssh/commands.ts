/**
 * Every remote command of the ssh target as plain text, built from data and
 * nothing else (Kamal's `commands/app.rb`): the host runs them with its own
 * `docker`, exactly as an operator would type them. Values are single-quoted;
 * `run-args` and `health-cmd` are the user's own shell text and go in as is.
 */

export const LABEL_SERVICE = 'ops-actions.service';
export const LABEL_DEPLOY = 'ops-actions.deploy';
export const LABEL_IMAGE = 'ops-actions.image';
export const LABEL_DEPLOY_ID = 'ops-actions.deploy-id';
/** The host port a container behind the proxy listens on (`proxy: nginx`). */
export const LABEL_PORT = 'ops-actions.port';

/** Marks our own lines in remote output, so a chatty login shell cannot be mistaken for data. */
const ROW = 'ops-actions-container';

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `<service>-<deploy tag>`, with anything Docker refuses in a name turned into `-`. */
export function containerName(service: string, deployTag: string): string {
  return `${service}-${deployTag.replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
}

export interface Container {
  id: string;
  name: string;
  deployTag: string;
  /** The image it was started from, as our label recorded it (falls back to Docker's `Image`). */
  image: string;
  /** created, running, exited, ... */
  state: string;
  createdAt: string;
  /** Its own host port when it was created for `proxy: nginx`. */
  port?: number | undefined;
}

export function listContainers(service: string): string {
  const format = [
    ROW,
    '{{.ID}}',
    '{{.Names}}',
    `{{.Label "${LABEL_DEPLOY}"}}`,
    `{{.Label "${LABEL_IMAGE}"}}`,
    '{{.State}}',
    '{{.CreatedAt}}',
    '{{.Image}}',
    `{{.Label "${LABEL_PORT}"}}`,
  ].join('\t');
  return `docker ps --all --no-trunc --filter ${shellQuote(`label=${LABEL_SERVICE}=${service}`)} --format ${shellQuote(format)}`;
}

/** Rows of `listContainers`, newest first. */
export function parseContainers(output: string): Container[] {
  const rows: Container[] = [];
  for (const line of output.split('\n')) {
    const cells = line.split('\t');
    if (cells[0] !== ROW || cells.length < 8) continue;
    const [, id, name, deployTag, label, state, createdAt, image, port] = cells as [string, ...string[]];
    rows.push({
      id: id!,
      name: name!,
      deployTag: deployTag!,
      image: label || image!,
      state: state!,
      createdAt: createdAt!,
      port: port && /^\d+$/.test(port) ? Number(port) : undefined,
    });
  }
  return rows.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export interface RegistryLogin {
  /** Registry host as `docker login` takes it; undefined for Docker Hub. */
  server: string | undefined;
  username: string;
}

/**
 * Pull by digest. With credentials, the login goes to a throwaway DOCKER_CONFIG
 * removed when the command ends, so no password stays on the host; the password
 * itself arrives on stdin, never in argv.
 */
export function pull(image: string, login?: RegistryLogin): string {
  if (!login) return `docker pull ${shellQuote(image)}`;
  const server = login.server ? ` ${shellQuote(login.server)}` : '';
  return [
    'set -e',
    'cfg=$(mktemp -d)',
    `trap 'rm -rf "$cfg"' EXIT`,
    `DOCKER_CONFIG="$cfg" docker login --username ${shellQuote(login.username)} --password-stdin${server} >/dev/null`,
    `DOCKER_CONFIG="$cfg" docker pull ${shellQuote(image)}`,
  ].join('; ');
}

export interface CreateSpec {
  name: string;
  image: string;
  service: string;
  deployTag: string;
  deployId: string;
  runArgs: string;
  /**
   * Behind the proxy: the container's own host port, kept in a label; `runArgs` then already
   * publishes it or tells the app (publish.ts `proxiedRunArgs`).
   */
  port?: number | undefined;
}

export function create(spec: CreateSpec): string {
  const labels = [
    `${LABEL_SERVICE}=${spec.service}`,
    `${LABEL_DEPLOY}=${spec.deployTag}`,
    `${LABEL_IMAGE}=${spec.image}`,
    `${LABEL_DEPLOY_ID}=${spec.deployId}`,
    ...(spec.port !== undefined ? [`${LABEL_PORT}=${spec.port}`] : []),
  ].flatMap((label) => ['--label', shellQuote(label)]);
  const runArgs = spec.runArgs.trim() === '' ? [] : [spec.runArgs.trim()];
  return ['docker create --name', shellQuote(spec.name), ...labels, ...runArgs, shellQuote(spec.image)].join(
    ' ',
  );
}

/**
 * Prints a free TCP port in 20000-29999: random candidates, skipping every
 * port the host's kernel lists as listening (`/proc/net/tcp*`, state 0A).
 */
export function pickPort(): string {
  return [
    `used=" $(awk 'FNR>1 && $4=="0A" {n=split($2,a,":"); print a[n]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null | tr '\n' ' ') "`,
    'for i in $(seq 1 100); do p=$(( $(od -An -N2 -tu2 /dev/urandom) % 10000 + 20000 )); h=$(printf "%04X" "$p"); case "$used" in *" $h "*) continue;; esac; echo "port $p"; exit 0; done',
    'echo "no free port found in 20000-29999" >&2; exit 1',
  ].join('; ');
}

/** The port `pickPort` printed. */
export function parsePort(output: string): number | undefined {
  const match = /^port (\d+)$/m.exec(output);
  return match ? Number(match[1]) : undefined;
}

/**
 * The health check of a container behind the proxy: `health-cmd` with `PORT`
 * exported, and/or `health-path` fetched from its own port.
 */
export function proxiedHealth(
  port: number,
  healthCmd: string | undefined,
  healthPath: string | undefined,
): string {
  const parts: string[] = [];
  if (healthCmd) parts.push(`(PORT=${port}; export PORT; ${healthCmd})`);
  if (healthPath)
    parts.push(`curl -fsS -o /dev/null --max-time 5 ${shellQuote(`http://127.0.0.1:${port}${healthPath}`)}`);
  return parts.join(' && ');
}

/** `$HOME/.ops-actions/nginx/<service>.conf`: the one file the action writes for nginx. */
export function upstreamFile(service: string): string {
  return `$HOME/.ops-actions/nginx/${service}.conf`;
}

/**
 * Upstream name for the operator's `proxy_pass http://<name>;`: `<service>_app`, one name per
 * service. nginx compares upstream names without case (a second `upstream Shop_app` next to
 * `shop_app` fails `nginx -t` with "duplicate upstream"), so the name is written in lower case
 * with `_` as an escape: `_` becomes `__` and a capital letter `_` plus its lower case
 * (`shop-api` → `shop-api_app`, `shop_api` → `shop__api_app`, `Shop` → `_shop_app`). Letters,
 * digits, `-` and `.` stay as they are; every service name allowed by the `service` input gets
 * a name no other one gets.
 */
export function upstreamName(service: string): string {
  const escaped = service.replace(/[A-Z_]/g, (c) => (c === '_' ? '__' : `_${c.toLowerCase()}`));
  return `${escaped}_app`;
}

export function upstreamConfig(service: string, port: number): string {
  return [
    '# Written by ops-actions action-deploy (proxy: nginx); replaced on every deploy.',
    `upstream ${upstreamName(service)} {`,
    `    server 127.0.0.1:${port};`,
    '    keepalive 16;',
    '}',
  ].join('\n');
}

/**
 * Points the service's upstream at `port`: the new file goes in place, `nginx -t`
 * checks the whole configuration, and only then `nginx -s reload` (a graceful
 * reload: old workers finish their requests, nginx.org/en/docs/control.html).
 * When `nginx -t` refuses, the previous file is put back before anything
 * reloads, and the command fails with nginx's message. `nginx` is the host's
 * own, unless the ssh session sets `OPS_ACTIONS_NGINX` (e.g. `sudo -n nginx`,
 * or nginx with its `-p`/`-c` for a non-default install).
 *
 * However the script ends before the reload went through (nginx -t refused, the
 * reload failed, a signal: the session cut on cancel is SIGHUP or SIGPIPE), its
 * EXIT trap puts the previous file back (or removes a first one) and leaves no
 * `.next`/`.good` file behind. `moved=1` is set before the file is overwritten: the
 * shell runs a trap only between commands, and putting back an unchanged file
 * is harmless.
 */
export function switchUpstream(service: string, port: number): string {
  const file = upstreamFile(service);
  return [
    'set -e',
    `f="${file}"`,
    'had=0; moved=0; live=0',
    'trap \'if [ "$live" != 1 ] && [ "$moved" = 1 ]; then if [ "$had" = 1 ]; then mv -f "$f.good" "$f"; else rm -f "$f"; fi; fi; rm -f "$f.good" "$f.next"\' EXIT',
    "trap 'exit 1' HUP INT TERM PIPE",
    'mkdir -p "$(dirname "$f")"',
    `printf '%s\n' ${shellQuote(upstreamConfig(service, port))} > "$f.next"`,
    'if [ -f "$f" ]; then cp -p "$f" "$f.good"; had=1; fi',
    'moved=1; cp "$f.next" "$f"',
    `n=\${OPS_ACTIONS_NGINX:-nginx}`,
    'if ! out=$($n -t 2>&1); then printf \'%s\\n\' "$out"; echo "nginx -t refused the new upstream; the previous one stays"; exit 1; fi',
    '$n -s reload',
    'live=1',
    `echo "upstream ${upstreamName(service)} -> 127.0.0.1:${port}"`,
  ].join('; ');
}

export function start(name: string): string {
  return `docker start ${shellQuote(name)}`;
}

export function stop(name: string): string {
  return `docker stop ${shellQuote(name)}`;
}

export function remove(name: string): string {
  return `docker rm --force ${shellQuote(name)}`;
}

/** Removes an image only when no container uses it any more; Docker refuses otherwise, which is fine. */
export function removeImageIfUnused(image: string): string {
  return `docker image rm ${shellQuote(image)} >/dev/null 2>&1 || true`;
}

export function tailLogs(name: string, lines = 20): string {
  return `docker logs --tail ${lines} ${shellQuote(name)}`;
}

/** Exit code of a health attempt when the container has stopped for good: waiting longer cannot help. */
export const CONTAINER_GONE = 86;

/**
 * One health attempt: fail fast when the container exited and will not be
 * restarted, otherwise the user's command decides.
 */
export function healthAttempt(name: string, healthCmd: string | undefined): string {
  const state = `docker inspect --format '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' ${shellQuote(name)}`;
  const check = [
    `s=$(${state}) || exit ${CONTAINER_GONE}`,
    `case "$s" in "exited no"|"exited "|"dead "*) echo "container ${name.replace(/[^a-zA-Z0-9_.-]/g, '')} is $s"; exit ${CONTAINER_GONE};; esac`,
  ].join('; ');
  return healthCmd ? `${check}; ${healthCmd}` : check;
}
