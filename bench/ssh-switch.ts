import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushAppImage, startDockerd } from '../sandbox/dockerd.ts';
import { type Answer, startLoad } from '../sandbox/load.ts';
import { startNginx } from '../sandbox/nginx.ts';
import { startRegistry } from '../sandbox/registry.ts';
import { freePort, startSshd } from '../sandbox/sshd.ts';
import { parseSshHost } from '../src/core/inputs.ts';
import * as cmd from '../src/deploy/ssh/commands.ts';
import { createSshTarget } from '../src/deploy/ssh/index.ts';
import { SshSession } from '../src/providers/ssh/session.ts';
import { captureContext, deployRequest, sshSettings } from '../test/deploy/ssh-helpers.ts';
import { type BenchResult, median } from './measure.ts';

/**
 * The ssh target's switch behind nginx (`proxy: nginx`, issue 18): a real
 * registry, dockerd, sshd and Debian nginx on loopback, an app on
 * `--network host`. While v2 replaces v1, four keep-alive clients send
 * requests through nginx, each answer timed. Switch time: from the moment the
 * action logs v2's health check passing to the first answer from v2 (upstream
 * live). Requests served during it: answers (and failures) in that window.
 *
 * Baseline, same run: `nginx -t && nginx -s reload` as an operator runs it
 * over ssh (one fresh connection, like each of the action's commands), then
 * the first answer after it; the same reload run locally is shown too (no
 * ssh at all). Ratio: median switch / median baseline over `ROUNDS` rounds.
 * Goal: ≤ 1.5 (the action adds the upstream file and its checks, not another
 * round trip) and no failed request.
 */

const ROUNDS = 3;
const exec = promisify(execFile);

/** Runs `reload`, then asks nginx until it answers: ms from the start. */
async function untilServed(url: string, reload: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await reload();
  for (;;) {
    const res = await fetch(`${url}/up`);
    await res.text();
    if (res.ok) return performance.now() - started;
  }
}

export async function benchSshSwitch(): Promise<BenchResult[]> {
  const registry = await startRegistry({});
  const dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  const service = `bench${process.pid}`;
  const upstreamFile = join(homedir(), '.ops-actions', 'nginx', `${service}.conf`);
  mkdirSync(join(homedir(), '.ops-actions', 'nginx'), { recursive: true });
  writeFileSync(upstreamFile, `${cmd.upstreamConfig(service, await freePort())}\n`);
  const nginx = await startNginx({ upstreamFile, upstream: cmd.upstreamName(service) });
  const nginxBin = join(nginx.binDir, 'nginx');
  const sshd = await startSshd({ env: { DOCKER_HOST: dockerd.host, OPS_ACTIONS_NGINX: nginxBin } });
  try {
    const versions = await Promise.all(
      ['v1', 'v2'].map((v) => pushAppImage(dockerd, registry, 'bench/switch', v, { version: v })),
    );
    const settings = sshSettings(sshd, {
      service,
      proxy: 'nginx',
      runArgs: '--network host',
      healthPath: '/up',
      drainTimeoutMs: 500,
    });
    const deploy = async (image: string, stamps: Map<string, number>) => {
      const { ctx } = captureContext();
      const lines: string[] = [];
      const outcome = await createSshTarget(settings, ctx, { healthIntervalMs: 100 }).run(
        deployRequest(image, lines, {
          log: (composed) => {
            const line = String(composed);
            lines.push(line);
            if (/healthy after \d+ attempt/.test(line)) stamps.set('healthy', performance.now());
            const took = /upstream switched to \S+ in (\S+ \S+)/.exec(line);
            if (took) stamps.set(`switch command ${took[1]}`, performance.now());
          },
        }),
      );
      if (outcome.status !== 'success') throw new Error(`bench deploy failed: ${outcome.error}`);
    };
    await deploy(versions[0]!.ref, new Map());
    const switches: number[] = [];
    const served: number[] = [];
    let failed = 0;
    const failures: string[] = [];
    const commands: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const next = versions[(round + 1) % 2]!;
      const want = round % 2 === 0 ? 'v2' : 'v1';
      const stamps = new Map<string, number>();
      const answers: Answer[] = [];
      const load = startLoad(`${nginx.url}/up`, { onAnswer: (a) => answers.push(a) });
      await deploy(next.ref, stamps);
      await load.stop(0);
      const healthy = stamps.get('healthy')!;
      const live = answers.find((a) => a.at >= healthy && a.body === want)?.at;
      if (live === undefined) throw new Error(`no answer from ${want} after the switch`);
      switches.push(live - healthy);
      served.push(answers.filter((a) => a.at >= healthy && a.at <= live && a.ok).length);
      failed += answers.filter((a) => !a.ok).length;
      failures.push(
        ...answers.filter((a) => !a.ok).map((a) => `${a.why} at +${Math.round(a.at - healthy)} ms`),
      );
      commands.push(
        ...[...stamps.keys()].filter((k) => k.startsWith('switch command')).map((k) => k.slice(15)),
      );
    }
    // Baselines: the same reload as an operator types it over ssh (a fresh connection, as the
    // action's own), and straight on the machine; each until the first answer after it.
    const session = await SshSession.open({ key: sshd.privateKey, knownHosts: sshd.knownHosts }, tmpdir());
    const host = parseSshHost('hosts', sshd.target);
    const overSsh: number[] = [];
    const local: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        overSsh.push(
          await untilServed(nginx.url, async () => {
            const run = await session.run(host, '$OPS_ACTIONS_NGINX -t && $OPS_ACTIONS_NGINX -s reload');
            if (run.code !== 0) throw new Error(`reload over ssh failed: ${run.output}`);
          }),
        );
        local.push(
          await untilServed(nginx.url, async () => {
            await exec(nginxBin, ['-t']);
            await exec(nginxBin, ['-s', 'reload']);
          }),
        );
      }
    } finally {
      await session.close();
    }
    const baselines = overSsh;
    const ratio = median(switches) / median(baselines);
    return [
      {
        name: 'deploy ssh proxy nginx switch (health passed -> upstream live) / nginx -t + reload typed over ssh',
        ratio,
        goal: '<= 1.5 and 0 failed',
        met: ratio <= 1.5 && failed === 0,
        details: {
          switch_ms_median: Math.round(median(switches)),
          switch_ms: switches.map((s) => Math.round(s)).join('/'),
          baseline_ssh_reload_ms_median: Math.round(median(overSsh)),
          local_reload_ms_median: Math.round(median(local)),
          served_during_switch: served.join('/'),
          failed_requests: failed,
          switch_command: commands.join('/').replace(/ /g, ''),
          ...(failures.length > 0 ? { failures: failures.join(';').replace(/ /g, '_') } : {}),
        },
      },
    ];
  } finally {
    await nginx.stop();
    await sshd.stop();
    await dockerd.stop();
    await registry.stop();
    rmSync(upstreamFile, { force: true });
    rmSync(join(homedir(), '.ops-actions', 'locks', `${service}.lock`), { force: true });
  }
}
