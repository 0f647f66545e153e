import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

// A test file's temporary directory and what it started there, taken down in one afterAll: what was
// started last stops first, and the directory goes last. Call it at the top of the describe, so its
// beforeAll runs before the file's own.

export interface E2eScope {
  /** The temporary directory (set once the scope's beforeAll ran). */
  readonly dir: string;
  /** Registers `thing` to be stopped in afterAll, by its stop() or by `stop`; gives it back. */
  keep<T extends { stop(): unknown }>(thing: T): T;
  keep<T>(thing: T, stop: (thing: T) => unknown): T;
}

export function e2eScope(prefix: string): E2eScope {
  let dir = '';
  const stops: (() => unknown)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    keep<T>(thing: T, stop?: (thing: T) => unknown): T {
      stops.push(() => (stop ? stop(thing) : (thing as { stop(): unknown }).stop()));
      return thing;
    },
  };
}
