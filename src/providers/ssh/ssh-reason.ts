import type { RemoteRun } from './session.ts';

/**
 * Why the ssh client could not run a command, from what it printed on its own
 * stderr: its last line, as OpenSSH words it (`Permission denied (publickey).`,
 * `Host key verification failed.`, `ssh: connect to host h port 22: Connection
 * refused`, `ssh: Could not resolve hostname h: Name or service not known`),
 * preceded by a `Load key` line when the key did not load, and for host keys
 * followed by which known_hosts entry was wrong (OpenSSH sshconnect.c
 * `check_host_key` prints "Host key for %s has changed" and "No %s host key is
 * known for %s"). The files the session wrote are named by the inputs they hold
 * (`ssh-key`, `ssh-known-hosts`): their temp paths are gone when anyone reads
 * this. Empty when ssh printed nothing.
 */
export function sshReason(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('@@@') && !line.startsWith('[output over'))
    .map(namedByInput);
  const last = lines.at(-1);
  if (last === undefined) return '';
  const changed = lines.map((l) => /^Host key for (\S+) has changed/.exec(l)?.[1]).find(Boolean);
  if (changed) return `${last} The host key of ${changed} is not the one ssh-known-hosts gives.`;
  const unknown = lines.map((l) => /^No (\S+) host key is known for (\S+)/.exec(l)).find(Boolean);
  if (unknown) return `${last} ssh-known-hosts has no ${unknown[1]} key for ${unknown[2]}.`;
  const load = lines.find((l) => l.startsWith('Load key '));
  return load && load !== last ? `${load} / ${last}` : last;
}

/** ssh's own failure, when the run had one: exit 255 with a message from the client. */
export function sshFailure(result: Pick<RemoteRun, 'code' | 'timedOut' | 'sshErrors'>): string | undefined {
  if (result.code !== 255 || result.timedOut) return undefined;
  return sshReason(result.sshErrors ?? '') || undefined;
}

function namedByInput(line: string): string {
  return line
    .replace(/"?\/\S*\/ops-ssh-[^/\s"]+\/id"?/g, '(ssh-key)')
    .replace(/"?\/\S*\/ops-ssh-[^/\s"]+\/known_hosts"?(:\d+)?/g, '(ssh-known-hosts)');
}

/**
 * ssh's reason as one sentence naming what could not be reached and what to
 * check, when the reason is that the host could not be reached at all
 * (OpenSSH sshconnect.c: "ssh: connect to host %s port %s: %s",
 * "ssh: Could not resolve hostname %s: %s"); `input` is the input that gave
 * the host. undefined for any other reason (login, host key), which ssh's own
 * words say well enough.
 */
export function unreachable(reason: string, input: string): string | undefined {
  const connect = /^ssh: connect to host (\S+) port (\d+): (.+)$/.exec(reason);
  if (connect) {
    const [, host, port, why] = connect;
    const what =
      why === 'Connection refused'
        ? `nothing listens there: check the host and port in ${input} and that sshd runs on it`
        : `check the host and port in ${input} and that a firewall lets the runner reach it`;
    return `ssh could not connect to ${host} port ${port} (${why}): ${what}`;
  }
  const resolve = /^ssh: Could not resolve hostname (\S+): (.+)$/.exec(reason);
  if (resolve)
    return `ssh could not find host ${resolve[1]} (${resolve[2]}): check the host name in ${input}`;
  return undefined;
}
