import { createPrivateKey } from 'node:crypto';
import { InputError } from '../../core/errors.ts';

/**
 * A private key as users paste it into a secret, turned into the file the
 * `ssh` client loads, or refused naming the input before anything connects.
 *
 * Accepted: the OpenSSH format (`ssh-keygen`'s default) and the PEM formats
 * OpenSSH loads through libcrypto (`RSA PRIVATE KEY`, `EC PRIVATE KEY`,
 * unencrypted PKCS#8 `PRIVATE KEY` of RSA or EC), as OpenSSH's `sshkey_parse_private_fileblob`
 * does. Whatever the secret store did to its line breaks (CRLF, newlines
 * turned into spaces or removed, `\n` written out, indentation, trailing
 * spaces, blank lines around), the key is rebuilt from the base64 between its
 * BEGIN and END lines, wrapped as `ssh-keygen` wraps it (70 columns for
 * OpenSSH, 64 for PEM), with `\n` line ends and a final newline.
 *
 * Refused with an `InputError` on `input` that says what is wrong and never
 * quotes the key: no BEGIN/END pair, text around it, a public or PuTTY key, a
 * passphrase (OpenSSH: cipher or kdf other than `none` in the binary header,
 * PROTOCOL.key; PEM: `Proc-Type: 4,ENCRYPTED`, RFC 1421; PKCS#8:
 * `ENCRYPTED PRIVATE KEY`, RFC 5958), a body that does not decode, a DSA or
 * security-key (FIDO) key.
 */
export function normalisePrivateKey(text: string, input = 'ssh-key'): string {
  const refuse = (problem: string): never => {
    throw new InputError(input, problem);
  };
  // A secret store may write line breaks out as `\n` / `\r\n`: base64 and the markers hold no backslash.
  const value = text.replace(/\\r|\\n/g, '\n').trim();
  const begin = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(value);
  if (!begin) return refuse(withoutBegin(value));
  const label = begin[1]!;
  const endMarker = `-----END ${label}-----`;
  const end = value.indexOf(endMarker, begin.index + begin[0].length);
  if (end < 0)
    return refuse(
      `has a BEGIN ${label} line but no END ${label} line: the key was cut; paste the whole file`,
    );
  const before = value.slice(0, begin.index).trim();
  const after = value.slice(end + endMarker.length).trim();
  if (before !== '' || after !== '')
    return refuse(
      `holds ${before.length + after.length} characters of other text ${before ? 'before the BEGIN line' : 'after the END line'}; give the private key file alone`,
    );
  const body = value.slice(begin.index + begin[0].length, end);
  const format = FORMATS[label];
  if (!format) return refuse(unknownLabel(label));
  if (format.encrypted) return refuse(PASSPHRASE);
  if (/Proc-Type:\s*4,\s*ENCRYPTED/i.test(body)) return refuse(PASSPHRASE);
  if (/[A-Za-z-]+:/.test(body))
    return refuse(
      `has header lines inside its ${label} block that OpenSSH does not read; give the key without them`,
    );
  const base64 = body.replace(/\s+/g, '');
  if (base64 === '') return refuse(`has nothing between its BEGIN ${label} and END ${label} lines`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
    return refuse(
      `holds characters that are not base64 between its BEGIN ${label} and END ${label} lines; paste the key as ssh-keygen wrote it`,
    );
  if (base64.length % 4 !== 0)
    return refuse(
      `is cut or changed: its ${label} body is not whole base64 (a character is missing or extra)`,
    );
  const problem = format.check(Buffer.from(base64, 'base64'));
  if (problem) return refuse(problem);
  const lines = base64.match(new RegExp(`.{1,${format.width}}`, 'g')) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n${endMarker}\n`;
}

const PASSPHRASE =
  'is protected by a passphrase, which the action cannot type: give a key without one (remove it from a copy with `ssh-keygen -p -N "" -f copy`)';

interface KeyFormat {
  /** Columns per body line as `ssh-keygen` writes it. */
  width: number;
  encrypted?: boolean;
  /** What is wrong with the decoded body, or undefined. */
  check: (der: Buffer) => string | undefined;
}

const FORMATS: Record<string, KeyFormat> = {
  'OPENSSH PRIVATE KEY': { width: 70, check: checkOpenSsh },
  'RSA PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'pkcs1', 'RSA PRIVATE KEY') },
  'EC PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'sec1', 'EC PRIVATE KEY') },
  'PRIVATE KEY': { width: 64, check: (der) => checkDer(der, 'pkcs8', 'PRIVATE KEY') },
  'ENCRYPTED PRIVATE KEY': { width: 64, encrypted: true, check: () => undefined },
};

function withoutBegin(value: string): string {
  if (/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-[a-z0-9]+|sk-[a-z0-9@.-]+)\s+AAAA/.test(value))
    return 'is a public key (one line starting with its type); give the private key: the file without .pub';
  if (/^PuTTY-User-Key-File-\d+:/.test(value))
    return 'is a PuTTY .ppk key, which OpenSSH cannot read; convert it with `puttygen key.ppk -O private-openssh -o key`';
  return 'must be a private key as ssh-keygen writes it, from its -----BEGIN … PRIVATE KEY----- line to its -----END … PRIVATE KEY----- line (OpenSSH, or PEM RSA, EC or PKCS#8); the value has no BEGIN line';
}

function unknownLabel(label: string): string {
  if (label === 'DSA PRIVATE KEY') return DSA;
  return `is a ${label} block, not a private key OpenSSH loads: give an OPENSSH, RSA, EC or PKCS#8 PRIVATE KEY`;
}

const DSA = 'is a DSA key, which OpenSSH servers refuse since 7.0: give an ed25519, ECDSA or RSA key';

const OPENSSH_MAGIC = 'openssh-key-v1\0';

/**
 * The binary layout of PROTOCOL.key (openssh-portable): magic, cipher name,
 * kdf name, kdf options, key count, public keys, private section. An
 * unencrypted private section starts with two equal check integers, so a
 * changed byte shows there.
 */
function checkOpenSsh(blob: Buffer): string | undefined {
  const damaged =
    'is cut or changed: its OPENSSH PRIVATE KEY body does not decode as a key; paste the whole file';
  if (blob.subarray(0, OPENSSH_MAGIC.length).toString('latin1') !== OPENSSH_MAGIC) return damaged;
  const reader = new SshBuffer(blob, OPENSSH_MAGIC.length);
  const cipher = reader.string()?.toString('latin1');
  const kdf = reader.string()?.toString('latin1');
  if (cipher === undefined || kdf === undefined) return damaged;
  if (cipher !== 'none' || kdf !== 'none') return PASSPHRASE;
  if (reader.string() === undefined) return damaged; // kdf options
  const count = reader.uint32();
  if (count !== 1) return damaged;
  const publicKey = reader.string();
  const secret = reader.string();
  if (publicKey === undefined || secret === undefined || reader.remaining !== 0) return damaged;
  const type = new SshBuffer(publicKey, 0).string()?.toString('latin1') ?? '';
  if (type === 'ssh-dss') return DSA;
  if (type.startsWith('sk-'))
    return 'is a security-key (FIDO) key, which needs its hardware key at every login; give a key without one (ed25519, ECDSA or RSA)';
  const checks = new SshBuffer(secret, 0);
  const first = checks.uint32();
  if (first === undefined || first !== checks.uint32() || secret.length % 8 !== 0) return damaged;
  return undefined;
}

/** Reads `uint32` and length-prefixed `string` fields (RFC 4251 §5). */
class SshBuffer {
  private readonly bytes: Buffer;
  private offset: number;

  constructor(bytes: Buffer, offset: number) {
    this.bytes = bytes;
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  uint32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const n = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return n;
  }

  string(): Buffer | undefined {
    const length = this.uint32();
    if (length === undefined || length > this.remaining) return undefined;
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
}

/** Curves OpenSSH signs with (ecdsa-sha2-nistp256/384/521, RFC 5656). */
const SSH_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

function checkDer(der: Buffer, type: 'pkcs1' | 'sec1' | 'pkcs8', label: string): string | undefined {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch {
    return `is cut or changed: its ${label} body does not decode as a key; paste the whole file`;
  }
  const kind = key.asymmetricKeyType;
  if (kind === 'dsa') return DSA;
  if (kind === 'ec' && !SSH_CURVES.includes(key.asymmetricKeyDetails?.namedCurve ?? ''))
    return 'is an EC key on a curve OpenSSH does not use: give a P-256, P-384 or P-521 key, or ed25519';
  // OpenSSH reads ed25519 only in its own format (9.2 on the runner: `Load key: invalid format`).
  if (kind === 'ed25519')
    return 'is an ed25519 key in PKCS#8 form, which OpenSSH does not load: give it in the OpenSSH format `ssh-keygen -t ed25519` writes';
  if (kind !== 'rsa' && kind !== 'ec')
    return `is a ${kind ?? 'unknown'} key, which OpenSSH does not log in with: give an ed25519, ECDSA or RSA key`;
  return undefined;
}
