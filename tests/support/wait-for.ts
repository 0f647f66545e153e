/** A condition a test polls: anything falsy means "not yet". */
export type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `check` until it gives something truthy, and returns that: tests wait on the condition itself,
 * and the budget only ends a test that would otherwise hang on a busy machine.
 */
export async function until<T>(what: string, check: Check<T>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `fn` until it gives a value: unlike `until`, false, 0 and '' are answers, only undefined is "not yet". */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const answer = await until(
    what,
    async () => {
      const v = await fn();
      return v === undefined ? undefined : { v };
    },
    timeoutMs,
  );
  return answer.v;
}
