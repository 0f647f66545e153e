import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { readObjectBody } from '../../handlers/http/body.ts';
import type { HandlerEnv } from '../../handlers/http/env.ts';
import { StatusError } from '../../lib/errors.ts';

// A body over the limit gets 413, and is read to its end first (up to four times the limit), so a
// client still uploading receives the answer instead of a reset connection.

const LIMIT = 100;

function app() {
  const a = new Hono<HandlerEnv>();
  a.post('/', async (c) => {
    try {
      return c.json(await readObjectBody(c, LIMIT));
    } catch (err) {
      if (err instanceof StatusError) return c.json({ code: err.code }, err.code as 413);
      throw err;
    }
  });
  return a;
}

/** A streamed body of `n` chunks of `size` bytes; `pulled()` tells how many the server asked for. */
function chunks(n: number, size: number) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (pulled === n) return ctl.close();
      pulled++;
      ctl.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
  return { body, pulled: () => pulled };
}

const post = (body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}) =>
  app().request(new Request('http://test/', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, duplex: 'half' } as RequestInit));

describe('request body limit', () => {
  it('reads a body within the limit', async () => {
    const res = await post('{"a":1}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ a: 1 });
  });

  it('answers 413 to a body over the limit after reading it to its end', async () => {
    const s = chunks(5, 60);
    const res = await post(s.body);
    expect(res.status).toBe(413);
    expect(s.pulled()).toBe(5);
  });

  it('stops reading a body past four times the limit', async () => {
    const s = chunks(50, 60);
    const res = await post(s.body);
    expect(res.status).toBe(413);
    expect(s.pulled()).toBeLessThan(50);
  });

  it('answers 413 when the declared length is over the limit', async () => {
    const res = await post(' '.repeat(LIMIT + 1), { 'content-length': String(LIMIT + 1) });
    expect(res.status).toBe(413);
  });
});
