import * as crypto from 'node:crypto';

/** RFC 3339 with second precision, as Kubernetes prints metav1.Time. */
export function nowTimestamp(date = new Date()): string {
  const iso = date.toISOString();
  // Years 0–9999 always give "YYYY-MM-DDTHH:MM:SS.sssZ".
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** Seconds since the epoch from which secondsTimestamp writes the text itself: years 1970–9999. */
const LAST_SECOND = 253_402_300_799;
const stamp = Buffer.alloc(20);
let stampDay = Number.NaN;

/**
 * nowTimestamp of a time in whole seconds (a commit's), as one flat string. Every cached revision has
 * one, so it is written into a buffer (the date part once per day) rather than formatted by Date.
 */
export function secondsTimestamp(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > LAST_SECOND) return flatString(nowTimestamp(new Date(seconds * 1000)));
  const day = Math.floor(seconds / 86_400);
  if (day !== stampDay) {
    stamp.write(new Date(day * 86_400_000).toISOString().slice(0, 11), 0, 'latin1');
    stampDay = day;
  }
  const inDay = seconds - day * 86_400;
  twoDigits(11, Math.floor(inDay / 3600));
  stamp[13] = 0x3a;
  twoDigits(14, Math.floor(inDay / 60) % 60);
  stamp[16] = 0x3a;
  twoDigits(17, inDay % 60);
  stamp[19] = 0x5a;
  return stamp.toString('latin1');
}

function twoDigits(at: number, n: number): void {
  stamp[at] = 0x30 + Math.floor(n / 10);
  stamp[at + 1] = 0x30 + (n % 10);
}

/** The SHA-1 of a text (as UTF-8): one call where Node has crypto.hash (20.12+), a Hash object before. */
export function sha1(text: string, encoding: 'hex' | 'base64'): string {
  return typeof crypto.hash === 'function' ? crypto.hash('sha1', text, encoding) : crypto.createHash('sha1').update(text).digest(encoding);
}

/** A path without leading or trailing slashes ("/a/b/" → "a/b", "/" → ""): how directories are compared and joined. */
export function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** Strings up to this long are flattened through one buffer (3 bytes a UTF-16 unit at most) instead of a new one each. */
const FLAT_SCRATCH_CHARS = 1024;
const flatScratch = Buffer.alloc(3 * FLAT_SCRATCH_CHARS);

/**
 * `s` as one flat string. Names and uids are built by concatenation, which V8 keeps as a tree of
 * pieces (several times the size of the text) for as long as the string lives; cached objects keep
 * theirs for as long as they are cached.
 */
export function flatString(s: string): string {
  if (s.length > FLAT_SCRATCH_CHARS) return Buffer.from(s, 'utf8').toString('utf8');
  const n = flatScratch.write(s, 0, 'utf8');
  return flatScratch.toString('utf8', 0, n);
}

/**
 * Freezes a JSON value and everything in it; a frozen object is taken to be frozen throughout. Walked
 * with for-in, which allocates nothing (JSON objects have no enumerable properties but their own).
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    else for (const k in value) deepFreeze(value[k]);
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep structural equality for JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A FIFO async mutex per key: operations on one key run one at a time, in arrival order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
