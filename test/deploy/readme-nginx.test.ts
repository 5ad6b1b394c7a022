import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NGINX_BINARY } from '../../sandbox/nginx.ts';
import { upstreamConfig, upstreamName } from '../../src/deploy/ssh/commands.ts';

/**
 * The README's once-per-host nginx set-up, as an operator copies it: its server block and the
 * upstream file its shell lines write pass the real `nginx -t`, and so does the block with the
 * upstream file the action writes on a deploy.
 */

const readme = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Zero-downtime deploys on ssh hosts'));
const serverBlock = /```nginx\n([\s\S]*?)```/.exec(section)![1]!;
const firstUpstream = /printf '(upstream [^']*)\\n'/.exec(section)![1]!;
const dir = mkdtempSync(join(tmpdir(), 'readme-nginx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nginxTest(upstreamFileText: string): string {
  const upstreamFile = join(dir, 'shop.conf');
  writeFileSync(upstreamFile, upstreamFileText);
  const site = join(dir, 'site.conf');
  writeFileSync(site, serverBlock.replace('/home/deploy/.ops-actions/nginx/shop.conf', upstreamFile));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs', 'error.log')};`,
      'events {}',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`),
      `  include ${site};`,
      '}',
    ].join('\n'),
  );
  return execFileSync(
    NGINX_BINARY,
    ['-t', '-p', `${dir}/`, '-c', conf, '-e', join(dir, 'logs', 'error.log')],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

describe('README nginx set-up', () => {
  it('names the upstream the action writes for service shop', () => {
    expect(serverBlock).toContain(`proxy_pass http://${upstreamName('shop')};`);
    expect(firstUpstream).toContain(`upstream ${upstreamName('shop')} {`);
  });

  it('gives services whose names differ only in `-` `_` `.` or case upstreams nginx -t tells apart', () => {
    const services = ['shop-api', 'shop_api', 'shop.api', 'Shop-API', 'shop-API', 'shop__api', 'shop_Api'];
    const files = services.map((service, i) => {
      const file = join(dir, `${service}.upstream`);
      writeFileSync(file, `${upstreamConfig(service, 21000 + i)}\n`);
      return `include ${file};`;
    });
    expect(() => nginxTest(`${firstUpstream}\n${files.join('\n')}\n`)).not.toThrow();
    // The shrunk counter-example of the old mapping (`.`/`-` as `_`): nginx -t said "duplicate upstream".
    expect(upstreamName('shop-api')).not.toBe(upstreamName('shop_api'));
  });

  it('maps every allowed service name to its own upstream name, unique without case', () => {
    // A small alphabet of the characters that used to collide makes near misses common.
    const near = fc.stringMatching(/^[aA1][aAbB1_.-]{0,6}$/);
    const any = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/);
    for (const service of [near, any]) {
      fc.assert(
        fc.property(fc.uniqueArray(service, { minLength: 2, maxLength: 40 }), (services) => {
          const names = services.map(upstreamName);
          for (const name of names)
            expect(name).toMatch(/^[a-z0-9][a-z0-9_.-]*_app$|^_[a-z][a-z0-9_.-]*_app$/);
          expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(services.length);
        }),
        { numRuns: 500 },
      );
    }
  });

  it.each([
    ['the first upstream file the README writes', `${firstUpstream}\n`],
    ['the upstream file a deploy writes', `${upstreamConfig('shop', 21234)}\n`],
  ])('passes nginx -t with %s', (_, text) => {
    expect(() => nginxTest(text)).not.toThrow();
  });
});
