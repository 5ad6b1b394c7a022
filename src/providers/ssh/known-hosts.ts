import { InputError } from '../../core/errors.ts';
import { msg } from '../../core/message.ts';

/**
 * known_hosts text as users paste it, checked line by line before ssh ever
 * reads it, with the format of OpenSSH's sshd(8) "SSH_KNOWN_HOSTS FILE
 * FORMAT": `[@cert-authority|@revoked] hostpatterns keytype base64-key
 * [comment]`. Host patterns are plain (`host`, `[host]:port`, `*`, `?`, `!`
 * negation, comma-separated) or hashed (`|1|salt|hash`, `ssh-keygen -H`).
 * Both markers are kept: ssh honours them itself (`@cert-authority` trusts
 * host certificates signed by the key, `@revoked` refuses the key). CRLF line
 * endings and blank or `#` lines are accepted; the text returned has LF only.
 * A malformed line is an `InputError` naming `input` and the line number.
 */

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);
const MARKERS = new Set(['@cert-authority', '@revoked']);
const HASHED = /^\|1\|[A-Za-z0-9+/]+=*\|[A-Za-z0-9+/]+=*$/;
const PATTERN = /^!?(\[[^\s[\],]+\]:\d{1,5}|[^\s[\],|]+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function knownHostsText(text: string, input: string): string {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const problem = lineProblem(line.trim());
    if (problem)
      throw new InputError(
        input,
        msg`line ${index + 1} is not a known_hosts line: ${problem}; each line is "[@cert-authority|@revoked] hosts keytype base64-key [comment]", as ssh-keyscan -p <port> <host> prints it`,
      );
  });
  return lines.map((line) => line.trimEnd()).join('\n');
}

function lineProblem(line: string): string | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const fields = line.split(/\s+/);
  if (fields[0]?.startsWith('@') && !MARKERS.has(fields[0]))
    return `unknown marker ${JSON.stringify(fields[0].slice(0, 40))} (only @cert-authority and @revoked)`;
  const [hosts, type, key] = MARKERS.has(fields[0]!) ? fields.slice(1) : fields;
  if (hosts && KEY_TYPES.has(hosts))
    return 'it starts with the key type: the host names come first (a public key alone is not a known_hosts line)';
  if (!hosts || !type || !key) return 'it needs hosts, a key type and a key';
  if (hosts.startsWith('|') ? !HASHED.test(hosts) : !hosts.split(',').every((p) => PATTERN.test(p)))
    return `the hosts field ${JSON.stringify(hosts.slice(0, 60))} is neither host patterns (host, [host]:port, comma-separated) nor a hashed |1|salt|hash`;
  if (!KEY_TYPES.has(type)) return `unknown key type ${JSON.stringify(type.slice(0, 40))}`;
  if (!BASE64.test(key) || wireType(key) !== type) return `the key is not a base64 ${type} key`;
  return undefined;
}

/** The key type named inside an SSH wire-format public key (RFC 4253 §6.6: string type, …). */
function wireType(base64: string): string | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length < 4) return undefined;
  const length = bytes.readUInt32BE(0);
  return length > 64 || bytes.length < 4 + length
    ? undefined
    : bytes.subarray(4, 4 + length).toString('latin1');
}
