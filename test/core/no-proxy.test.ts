import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNoProxy } from '../../src/core/no-proxy.ts';

/** NO_PROXY as curl and the runner read it (src/core/no-proxy.ts): names, suffixes, ports, `*`, CIDR ranges. */

const bypass = (noProxy: string, url: string) => parseNoProxy(noProxy).bypasses(new URL(url));

describe('NO_PROXY entries', () => {
  it.each([
    // [NO_PROXY, URL, direct?]
    ['', 'https://api.github.com/', false],
    ['*', 'https://api.github.com/', true],
    ['none.invalid, *', 'http://10.1.2.3:8080/', true],
    ['*:8080', 'http://10.1.2.3:8080/', true],
    ['*:8080', 'http://10.1.2.3/', false],
    ['github.com', 'https://github.com/', true],
    ['github.com', 'https://api.github.com/', true],
    ['github.com', 'https://notgithub.com/', false],
    ['.github.com', 'https://github.com/', true],
    ['.github.com', 'https://api.github.com/', true],
    ['*.github.com', 'https://api.github.com/', true],
    ['*.github.com', 'https://github.com/', false],
    ['GitHub.COM.', 'https://API.github.com./', true],
    ['github.com:443', 'https://github.com/', true],
    ['github.com:443', 'http://github.com/', false],
    ['internal:8080', 'http://internal:8080/x', true],
    ['internal:8080', 'http://internal:9090/x', false],
    ['10.0.0.0/8', 'http://10.20.30.40:8080/', true],
    ['10.0.0.0/8', 'http://11.0.0.1/', false],
    ['127.0.0.0/8', 'http://127.0.0.1:34567/', true],
    ['127.0.0.0/8', 'http://127.255.1.1/', true],
    ['192.168.0.0/16 172.16.0.0/12', 'https://172.31.255.254/', true],
    ['192.168.0.0/16 172.16.0.0/12', 'https://172.32.0.1/', false],
    ['10.0.0.0/8', 'http://ten.example/', false],
    ['fd00::/8', 'http://[fd12::1]:8080/', true],
    ['[fd00::]/8', 'http://[fd12::1]/', true],
    ['fd00::/8', 'http://[fe80::1]/', false],
    ['::1', 'http://[::1]:9000/', true],
    ['[::1]:9000', 'http://[::1]:9000/', true],
    ['[::1]:9000', 'http://[::1]:9001/', false],
    ['127.0.0.1', 'http://127.0.0.1:1234/', true],
    ['0.0.1', 'http://10.0.0.1/', false],
    ['127.0.0.1:1234', 'http://127.0.0.1:1234/', true],
    ['127.0.0.1:1234', 'http://127.0.0.1:1235/', false],
    ['10.0.0.0/33', 'http://10.0.0.1/', false],
  ])('NO_PROXY=%j, %s → direct %s', (noProxy, url, direct) => {
    expect(bypass(noProxy, url)).toBe(direct);
  });
});

describe('generated CIDR ranges', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const toInt = ([a, b, c, d]: number[]) => ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;

  it('an address is direct exactly when its first <prefix> bits are the network’s', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (network, address, prefix) => {
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const net = (toInt(network) & mask) >>> 0;
        const addr = toInt(address);
        const inside = (addr & mask) >>> 0 === net;
        expect(bypass(`${dotted(net)}/${prefix}`, `http://${dotted(addr)}:8080/`)).toBe(inside);
      }),
      { numRuns: 500 },
    );
  });
});
