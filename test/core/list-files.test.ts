import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInputs as parseConfigUpdate } from '../../src/config-update/inputs.ts';
import { InputError } from '../../src/core/errors.ts';
import {
  fromRecord,
  InputReader,
  LIST_FILE_MAX_BYTES,
  serverView,
  workspaceFiles,
} from '../../src/core/inputs.ts';
import { parseInputs as parseDeploy } from '../../src/deploy/inputs.ts';
import { generatedKeys } from '../helpers/ssh-keys.ts';

/** A reader whose workspace holds `files` (path → text); other paths are ENOENT. */
function reader(values: Record<string, string>, files: Record<string, string> = {}) {
  return new InputReader(fromRecord(values), (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  });
}

function inputError(parse: () => unknown): InputError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const kamalFile = (text: string) =>
  parseConfigUpdate(reader({ target: 'kamal', 'urls-file': 'fleet/urls.txt' }, { 'fleet/urls.txt': text }));

describe('urls-file', () => {
  it('reads one URL a line, leaving out blank lines, # lines and trailing # comments', () => {
    const s = kamalFile(
      '\uFEFF# the fleet\r\nhttps://a.example/update\n\n   \n  https://b.example/update   # eu\n#https://c.example/update\nhttps://d.example/update#keep\n',
    );
    expect(s.target).toEqual({
      kind: 'kamal',
      urls: ['https://a.example/update', 'https://b.example/update', 'https://d.example/update#keep'],
      lines: [2, 5, 7],
      list: 'urls-file',
      listedIn: '`urls-file` fleet/urls.txt',
    });
  });

  it('keeps a slash that ends a query (fast-check shrunk: it was cut as a trailing path slash)', () => {
    expect(kamalFile('http://a.aa?/').target).toEqual({
      kind: 'kamal',
      urls: ['http://a.aa?/'],
      lines: [1],
      list: 'urls-file',
      listedIn: '`urls-file` fleet/urls.txt',
    });
  });

  it.each([
    [
      'https://a.test/u\nnot-a-url',
      '"fleet/urls.txt" line 2: must be an http(s) URL; the entry does not start with http:// or https://',
    ],
    // A line of the wrong file is never quoted (issue 17 review: /etc/passwd, .env).
    [
      'SECRET_KEY_BASE=abc123def456',
      '"fleet/urls.txt" line 1: must be an http(s) URL; the entry does not start with http:// or https://',
    ],
    [
      'https://a.test/u eu-west',
      '"fleet/urls.txt" line 1: must be one http(s) URL per line, without spaces or control characters; the entry has a space at character 17',
    ],
    [
      'https://a.test/u\tb',
      '"fleet/urls.txt" line 1: must be one http(s) URL per line, without spaces or control characters; the entry has a tab at character 17',
    ],
    ['# hosts\n\nftp://a.test/u', '"fleet/urls.txt" line 3: must be an http(s) URL'],
    ['https://u:p@a.test/u', '"fleet/urls.txt" line 1: must not carry credentials'],
    [
      'https://a.test/u\n# x\nhttps://A.test/u#2',
      '"fleet/urls.txt" line 3: lists https://a.test/u twice (line 1 has it too',
    ],
    ['# only comments\n\n', 'names "fleet/urls.txt", which lists no URL'],
  ])('%j → error naming urls-file, the file and the line', (text, expected) => {
    const error = inputError(() => kamalFile(text));
    expect(error.input).toBe('urls-file');
    expect(error.message).toContain(`Input 'urls-file' ${expected}`);
  });

  it('splits lines at LF, CRLF and a lone CR, so one line never covers two URLs', () => {
    expect(kamalFile('http://a.test/a\rhttp://a.test/b\r\nhttp://a.test/c\n').target).toMatchObject({
      urls: ['http://a.test/a', 'http://a.test/b', 'http://a.test/c'],
    });
  });

  it('reads urls with the rules of urls-file: lone CRs and trailing # comments', () => {
    const typed = parseConfigUpdate(
      reader({ target: 'kamal', urls: 'http://h.test/a # eu\rhttp://h.test/b' }),
    );
    expect(typed.target).toMatchObject({ urls: ['http://h.test/a', 'http://h.test/b'] });
  });

  it.each([
    ['http://h.test/a  eu-west', 'a space at character 16'],
    ['http://h.test/a\tb', 'a tab at character 16'],
    ['http://h.test/a\u00a0b', 'the character U+00A0 at character 16'],
    ['http://h.test/a\u0001b', 'the character U+0001 at character 16'],
    // Invisible: sent as %E2%80%8B, or mapped to nothing in a host (issue 17 review).
    ['http://h.test/a\u200b', 'the character U+200B at character 16'],
    ['http://h\u00ad.test/a', 'the character U+00AD at character 9'],
    ['http://h.test/\u202ea', 'the character U+202E at character 15'],
    ['http://h.test/a\u{E0001}', 'the character U+E0001 at character 16'],
  ])('refuses %j in urls naming the input, never sending another path', (line, what) => {
    const error = inputError(() => parseConfigUpdate(reader({ target: 'kamal', urls: line })));
    expect(error.input).toBe('urls');
    expect(error.message).toContain(what);
  });

  it('names the input and the path of a file it cannot read', () => {
    const error = inputError(() =>
      parseConfigUpdate(reader({ target: 'kamal', 'urls-file': 'missing.txt' })),
    );
    expect(error.message).toBe(
      `Input 'urls-file' names "missing.txt", which cannot be read (ENOENT); give a workspace path to a file with one entry per line`,
    );
  });

  it('refuses urls and urls-file together', () => {
    const error = inputError(() =>
      parseConfigUpdate(
        reader(
          { target: 'kamal', urls: 'https://a.test/u', 'urls-file': 'u.txt' },
          { 'u.txt': 'https://b.test/u' },
        ),
      ),
    );
    expect(error.message).toContain("Input 'urls' and urls-file exclude each other");
  });
});

describe('list files stay inside the workspace (links followed)', () => {
  const root = mkdtempSync(join(tmpdir(), 'ops-list-files-'));
  const workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'fleet'), { recursive: true });
  writeFileSync(join(workspace, 'fleet', 'urls.txt'), 'https://a.test/u\n');
  writeFileSync(join(root, 'outside.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
  symlinkSync(join(root, 'outside.txt'), join(workspace, 'fleet', 'link.txt'));
  symlinkSync(join(workspace, 'fleet', 'urls.txt'), join(workspace, 'inside-link.txt'));
  symlinkSync(root, join(workspace, 'out'));
  const parse = (file: string) =>
    parseConfigUpdate(
      new InputReader(fromRecord({ target: 'kamal', 'urls-file': file }), workspaceFiles(workspace)),
    );

  it.each(['fleet/urls.txt', join(workspace, 'fleet', 'urls.txt'), 'inside-link.txt'])('reads %s', (file) => {
    expect(parse(file).target).toMatchObject({ urls: ['https://a.test/u'] });
  });

  it.each([
    // Latin-1 é on line 3: decoded leniently it was U+FFFD, sent as %EF%BF%BD (issue 17 review).
    ['latin1.txt', Buffer.from('# fleet\r\nhttps://a.test/u\rhttps://a.test/caf\xe9\n', 'latin1'), 3],
    // UTF-16 (a Windows "Unicode" export): its BOM is not UTF-8.
    ['utf16.txt', Buffer.from('\uFEFFhttps://a.test/u\n', 'utf16le'), 1],
  ])('refuses %s, which is not UTF-8, naming the first line that is not', (file, bytes, line) => {
    writeFileSync(join(workspace, file), bytes);
    const error = inputError(() => parse(file));
    expect(error.message).toBe(
      `Input 'urls-file' "${file}" line ${line}: holds bytes that are not UTF-8 text; save the file as UTF-8`,
    );
  });

  it.each([
    ['.', 'is a directory'],
    ['fleet', 'is a directory'],
    // Reading a FIFO waits for a writer forever: the step would hang to its timeout (issue 17 review).
    ['fleet/fifo', 'is not a regular file (a FIFO, a socket or a device)'],
    [
      'big.txt',
      `is ${LIST_FILE_MAX_BYTES + 1} bytes, more than a list file may hold (${LIST_FILE_MAX_BYTES})`,
    ],
  ])('refuses %s, which names no list, with one error naming the input', (file, why) => {
    execFileSync('mkfifo', ['-m', '600', join(workspace, 'fleet', 'fifo')]);
    // Sparse: no disk is written.
    closeSync(openSync(join(workspace, 'big.txt'), 'w'));
    truncateSync(join(workspace, 'big.txt'), LIST_FILE_MAX_BYTES + 1);
    try {
      expect(inputError(() => parse(file)).message).toBe(
        `Input 'urls-file' names ${JSON.stringify(file)}, which ${why}; give a file with one entry per line`,
      );
    } finally {
      rmSync(join(workspace, 'fleet', 'fifo'));
      rmSync(join(workspace, 'big.txt'));
    }
  });

  it('reads a UTF-8 file whose URL holds a non-ASCII letter as written', () => {
    writeFileSync(join(workspace, 'utf8.txt'), '\uFEFFhttps://a.test/café\n');
    expect(parse('utf8.txt').target).toMatchObject({ urls: ['https://a.test/café'] });
  });

  it.each([
    '../outside.txt',
    join(root, 'outside.txt'),
    'fleet/link.txt',
    '../../../../../../etc/passwd',
    // Missing ones too, directly or through a linked folder: the answer never tells what exists outside.
    '../missing.txt',
    join(root, 'missing', 'deeper.txt'),
    'out/missing.txt',
  ])('refuses %s as outside the workspace, naming the input and quoting nothing of the file', (file) => {
    const error = inputError(() => parse(file));
    expect(error.input).toBe('urls-file');
    expect(error.message).not.toContain('root:x');
    expect(error.message).toContain('which is outside the workspace (links followed)');
  });

  it('says a missing file inside the workspace cannot be read', () => {
    expect(inputError(() => parse('fleet/missing.txt')).message).toMatch(/cannot be read \(ENOENT\)/);
  });
});

describe('hosts-file', () => {
  const ssh = {
    target: 'ssh',
    image: 'registry.example.com/app:2',
    'ssh-key': generatedKeys().usable[0]!.text,
    'ssh-known-hosts': 'x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    service: 'web',
    'hosts-file': 'hosts.txt',
  };
  const deploy = (text: string) => parseDeploy(reader(ssh, { 'hosts.txt': text }));

  it('reads [user@]host[:port] lines with comments', () => {
    const s = deploy('# web\ndeploy@10.0.0.5:2222\n\nweb-2.example.com # eu\n');
    expect(s.target).toMatchObject({
      kind: 'ssh',
      hosts: [
        { user: 'deploy', host: '10.0.0.5', port: 2222 },
        { user: undefined, host: 'web-2.example.com', port: 22 },
      ],
    });
  });

  it.each([
    [
      'web-1\nweb 2',
      `Input 'hosts-file' "hosts.txt" line 2: must be [user@]host[:port], one per line; the entry has a space at character 4`,
    ],
    ['web-1\nweb_2!', `Input 'hosts-file' "hosts.txt" line 2: must be [user@]host[:port]`],
    // A line of the wrong file is never quoted.
    ['root:x:0:0:root:/root:/bin/bash', `Input 'hosts-file' "hosts.txt" line 1: must be [user@]host[:port]`],
    ['# a\nweb-1:70000', `Input 'hosts-file' "hosts.txt" line 2: has a port outside 1-65535`],
    // ssh would read a host starting with a dash as an option: -J is a ProxyJump (issue 17 review).
    [
      'web-1\n-Jproxy.example',
      `Input 'hosts-file' "hosts.txt" line 2: must be [user@]host[:port], the host a name`,
    ],
    [
      'web-1\ndeploy@-oX',
      `Input 'hosts-file' "hosts.txt" line 2: must be [user@]host[:port], the host a name`,
    ],
    ['web1..', `Input 'hosts-file' "hosts.txt" line 1: must be [user@]host[:port], the host a name`],
    ['.', `Input 'hosts-file' "hosts.txt" line 1: must be [user@]host[:port], the host a name`],
    ['web-.example', `Input 'hosts-file' "hosts.txt" line 1: must be [user@]host[:port], the host a name`],
    ['# nothing', `Input 'hosts-file' names "hosts.txt", which lists no host`],
  ])('%j → %s', (text, expected) => {
    const error = inputError(() => deploy(text));
    expect(error.input).toBe('hosts-file');
    expect(error.message).toContain(expected);
  });

  it.each([
    ['alice@web1\nbob@web1', 'web1:22 on line 1 and again on line 2'],
    ['[::1]\n# x\n[0:0::1]', '[::1]:22 on line 1 and again on line 3'],
    ['web1.\nWEB1:22', 'web1:22 on line 1 and again on line 2'],
    ['10.0.0.5:2222\ndeploy@10.0.0.5:2222', '10.0.0.5:2222 on line 1 and again on line 2'],
  ])('refuses %j as one host twice, in hosts and hosts-file, naming the lines', (text, what) => {
    const fromFile = inputError(() => deploy(text));
    expect(fromFile.message).toContain(`Input 'hosts-file' "hosts.txt" line `);
    expect(fromFile.message).toContain(`lists the host ${what}`);
    const typed = inputError(() => parseDeploy(reader({ ...ssh, 'hosts-file': '', hosts: text })));
    expect(typed.message).toContain(`Input 'hosts' lists the host ${what}`);
  });

  it.each([['web1\nweb1:2222'], ['web1\nweb2'], ['[::1]\n[::2]'], ['web-1.example.\n10.0.0.1\nx1']])(
    'keeps %j: different hosts',
    (text) => {
      expect(() => deploy(text)).not.toThrow();
    },
  );

  it('refuses hosts and hosts-file together', () => {
    const error = inputError(() => parseDeploy(reader({ ...ssh, hosts: 'web-1' }, { 'hosts.txt': 'web-2' })));
    expect(error.message).toContain("Input 'hosts' and hosts-file exclude each other");
  });
});

describe('serverView', () => {
  it.each([
    ['http://h/update', 'http://h/update#again'],
    ['http://h/update', 'HTTP://H/update'],
    ['http://h/update', 'http://h:80/update'],
    ['https://h/update', 'https://h:443/update'],
    ['http://h/update', 'http://h/update?'],
    ['http://h/update', 'http://h/update?#'],
    ['http://h/a/update', 'http://h/a/./b/../update'],
    // fast-check shrunk: trailing slashes went before the fragment, so `//#` kept a path of `//`
    ['http://a.aa//', 'http://a.aa//#'],
    ['http://h/update/', 'http://h/update//?#x'],
    // fast-check shrunk: the trailing slash of a query was cut as if it ended the path
    ['http://a.aa?/', 'http://a.aa?/#'],
    // The DNS name with its root dot, as sshHostKey compares hosts (issue 17 review).
    ['http://h.example/update', 'http://H.example.:80/update'],
    ['https://h.example:8443/update', 'https://h.example.:8443/update'],
    ['http://[::1]/update', 'http://[0:0:0:0:0:0:0:1]/update'],
    ['http://xn--bcher-kva.example/update', 'http://BÜCHER.example/update'],
  ])('%s and %s reach the same endpoint', (a, b) => {
    expect(serverView(b)).toBe(serverView(a));
  });

  it.each([
    ['http://h/update', 'http://h/Update'],
    ['http://a.aa?/', 'http://a.aa?'],
    ['http://h/update', 'http://h:8080/update'],
    ['http://h/update', 'https://h/update'],
    ['http://h/update?a=1', 'http://h/update?a=2'],
    ['http://h/update?a', 'http://h/update'],
  ])('%s and %s are different endpoints', (a, b) => {
    expect(serverView(b)).not.toBe(serverView(a));
  });

  const endpoint = fc.record({
    scheme: fc.constantFrom('http', 'https'),
    host: fc.domain(),
    port: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
    path: fc.webPath(),
    query: fc.option(fc.webQueryParameters(), { nil: undefined }),
  });
  const render = (e: {
    scheme: string;
    host: string;
    port: number | undefined;
    path: string;
    query: string | undefined;
  }) =>
    `${e.scheme}://${e.host}${e.port === undefined ? '' : `:${e.port}`}${e.path}${e.query ? `?${e.query}` : ''}`;

  it('ignores fragments, an empty ?, a default port and the case of scheme and host (property)', () => {
    fc.assert(
      fc.property(endpoint, fc.webFragments(), fc.boolean(), (e, fragment, upper) => {
        const plain = render(e);
        const defaultPort = e.port === undefined ? (e.scheme === 'http' ? ':80' : ':443') : `:${e.port}`;
        const scheme = upper ? e.scheme.toUpperCase() : e.scheme;
        const host = upper ? e.host.toUpperCase() : e.host;
        const variant = `${scheme}://${host}${defaultPort}${e.path}${e.query ? `?${e.query}` : '?'}#${fragment}`;
        expect(serverView(variant)).toBe(serverView(plain));
      }),
    );
  });

  it('refuses every such variant in urls and in urls-file, and keeps distinct paths (property)', () => {
    fc.assert(
      fc.property(endpoint, fc.webFragments(), (e, fragment) => {
        const plain = render(e);
        const list = `${plain}\n${plain}#${fragment}`;
        expect(inputError(() => parseConfigUpdate(reader({ target: 'kamal', urls: list }))).input).toBe(
          'urls',
        );
        expect(inputError(() => kamalFile(list)).message).toContain('line 2: lists');
        const other = `${e.scheme}://${e.host}${e.port === undefined ? '' : `:${e.port}`}/other-endpoint${e.path}`;
        expect(() => kamalFile(`${plain}\n${other}`)).not.toThrow();
      }),
    );
  });
});

describe('list file lines (property)', () => {
  const url = fc.webUrl({ withFragments: false, withQueryParameters: true });
  const comment = fc.string({ unit: fc.constantFrom('a', ' ', '#', 'é', 'x') }).map((s) => `# ${s}`);
  const blank = fc.constantFrom('', '   ', '\t');

  it('keeps every URL, in order, whatever comments and blank lines surround it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(url, {
          minLength: 1,
          maxLength: 20,
          selector: (u) => serverView(u),
        }),
        fc.array(fc.oneof(comment, blank), { maxLength: 30 }),
        fc.boolean(),
        (urls, fillers, crlf) => {
          const lines: string[] = [];
          urls.forEach((u, i) => {
            if (fillers[i] !== undefined) lines.push(fillers[i]!);
            lines.push(i % 2 === 0 ? u : `  ${u}  # trailing note`);
          });
          lines.push(...fillers.slice(urls.length));
          const s = kamalFile(lines.join(crlf ? '\r\n' : '\n'));
          expect(s.target).toMatchObject({ kind: 'kamal', urls: urls });
        },
      ),
    );
  });

  it('reads urls and urls-file alike, whatever the line endings (LF, CRLF, lone CR) and trailing comments', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(url, { minLength: 1, maxLength: 12, selector: (u) => serverView(u) }),
        fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 12, maxLength: 12 }),
        fc.array(fc.option(comment, { nil: undefined }), { minLength: 12, maxLength: 12 }),
        (urls, endings, notes) => {
          const text = urls.map((u, i) => `${u}${notes[i] ? ` ${notes[i]}` : ''}${endings[i]}`).join('');
          const typed = parseConfigUpdate(reader({ target: 'kamal', urls: text }));
          expect(typed.target).toMatchObject({ urls: urls });
          expect(kamalFile(text).target).toMatchObject({ urls: urls });
        },
      ),
    );
  });

  it('refuses a space or control character inside any URL, naming the line (never another path)', () => {
    const blank = fc.constantFrom(
      ' ',
      '\t',
      '\u000b',
      '\f',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u00a0',
      '\u2003',
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(url, { minLength: 1, maxLength: 6, selector: (u) => serverView(u) }),
        fc.nat(),
        fc.nat(),
        blank,
        (urls, which, at, char) => {
          const i = which % urls.length;
          const u = urls[i]!;
          const cut = 1 + (at % (u.length - 1));
          const lines = urls.map((v, j) => (j === i ? `${u.slice(0, cut)}${char}${u.slice(cut)}` : v));
          const error = inputError(() => kamalFile(lines.join('\n')));
          expect(error.message).toContain(`"fleet/urls.txt" line ${i + 1}: must be one http(s) URL per line`);
          expect(
            inputError(() => parseConfigUpdate(reader({ target: 'kamal', urls: lines.join('\n') }))).input,
          ).toBe('urls');
        },
      ),
    );
  });

  it('names the line of the first bad entry', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(url, comment, blank), { maxLength: 15 }),
        fc.constantFrom('not a url', 'ftp://x.test/', 'mailto:a@b.test'),
        (before, bad) => {
          const unique = [...new Set(before)].filter(
            (l, i, all) =>
              !/^https?:/.test(l) ||
              all.findIndex((o) => /^https?:/.test(o) && serverView(o) === serverView(l)) === i,
          );
          const text = [...unique, bad].join('\n');
          expect(inputError(() => kamalFile(text)).message).toContain(
            `"fleet/urls.txt" line ${unique.length + 1}:`,
          );
        },
      ),
    );
  });
});
