/** A watch event as it crosses the wire; each test types the object as far as it reads it. */
export interface WireEvent<O extends { metadata?: { name?: string } } = { metadata?: { name?: string } }> {
  type: string;
  object: O;
}

/** `p`, or a rejection naming `what` once `ms` have passed: a watch that stalls fails its test instead of hanging it. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Events of one watch, however a transport delivers them, awaited one by one. */
export abstract class WatchEvents<E extends WireEvent> {
  readonly seen: E[] = [];

  /** The next event, or undefined once the watch has ended. */
  abstract next(ms?: number): Promise<E | undefined>;

  /** Events up to and including the first that matches. */
  async until(pred: (ev: E) => boolean, what: string): Promise<E[]> {
    const out: E[] = [];
    for (;;) {
      const ev = await this.next();
      if (!ev) throw new Error(`watch ended before ${what}; got ${JSON.stringify(out.map((e) => [e.type, e.object.metadata?.name]))}`);
      out.push(ev);
      if (pred(ev)) return out;
    }
  }
}

/** Matches the event of the object `name`, of the given type if one is given. */
export const named =
  (name: string, type?: string) =>
  (ev: WireEvent): boolean =>
    ev.object.metadata?.name === name && (!type || ev.type === type);
