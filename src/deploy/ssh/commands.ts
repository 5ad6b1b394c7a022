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
  ].join('\t');
  return `docker ps --all --no-trunc --filter ${shellQuote(`label=${LABEL_SERVICE}=${service}`)} --format ${shellQuote(format)}`;
}

/** Rows of `listContainers`, newest first. */
export function parseContainers(output: string): Container[] {
  const rows: Container[] = [];
  for (const line of output.split('\n')) {
    const cells = line.split('\t');
    if (cells[0] !== ROW || cells.length < 8) continue;
    const [, id, name, deployTag, label, state, createdAt, image] = cells as [string, ...string[]];
    rows.push({
      id: id!,
      name: name!,
      deployTag: deployTag!,
      image: label || image!,
      state: state!,
      createdAt: createdAt!,
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
}

export function create(spec: CreateSpec): string {
  const labels = [
    `${LABEL_SERVICE}=${spec.service}`,
    `${LABEL_DEPLOY}=${spec.deployTag}`,
    `${LABEL_IMAGE}=${spec.image}`,
    `${LABEL_DEPLOY_ID}=${spec.deployId}`,
  ].flatMap((label) => ['--label', shellQuote(label)]);
  const runArgs = spec.runArgs.trim() === '' ? [] : [spec.runArgs.trim()];
  return ['docker create --name', shellQuote(spec.name), ...labels, ...runArgs, shellQuote(spec.image)].join(
    ' ',
  );
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
