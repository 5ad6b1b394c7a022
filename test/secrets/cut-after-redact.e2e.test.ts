import { afterEach, describe, expect, it } from 'vitest';
import { createWorld, HEROKU_KEY, type World } from '../clone/world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** Every piece of `value` of at least `min` characters: what a cut would leave of it. */
function pieces(value: string, min = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i + min <= value.length; i++) out.push(value.slice(i, i + min));
  return out;
}

describe('issue 12 §1: redact the whole text, then cut (clone bundle)', () => {
  it('a Heroku error body echoing the key past its 280th character shows no part of it', async () => {
    w = await createWorld();
    // The key starts at 285: an excerpt cut at 300 would keep 15 characters of it, unredacted
    // if the cut came first. Heroku's error shape: { id, message } (platform-api errors).
    const message = `${'x'.repeat(280)} key=${HEROKU_KEY} was refused`;
    expect(message.indexOf(HEROKU_KEY)).toBeGreaterThan(280);
    w.heroku.server.inject({
      route: 'GET /account',
      times: Number.POSITIVE_INFINITY,
      fault: { status: 403, json: { id: 'forbidden', message } },
    });
    const run = await w.run();
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    const logText = JSON.stringify(run.log);
    // The failure is reported with the body's excerpt, and the JSONL log records it.
    expect(run.errors[0]).toContain('xxxx');
    expect(logText).toContain('xxxx');
    for (const piece of pieces(HEROKU_KEY.slice(5))) {
      expect(run.errors[0]).not.toContain(piece);
      expect(logText).not.toContain(piece);
    }
    expect(run.everything).not.toContain(HEROKU_KEY.slice(5, 15));
  });
});
