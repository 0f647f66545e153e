import { createHash } from 'node:crypto';

// The API shows a package as text by path (PackageRevisionResources.spec.resources is a map of
// strings, as in Porch), which cannot say that a file is executable, a symlink, or bytes that are not
// UTF-8. What it cannot say is kept here, next to the text: a file written back with the very text
// it was shown as takes its bytes and mode from where it came from.

export const REGULAR = '100644';
export const EXECUTABLE = '100755';
export const SYMLINK = '120000';

/** A file as it is in git, by the mode and blob it had; the bytes are read when needed. */
export interface FileOrigin {
  mode: string;
  oid: string;
  bytes(): Promise<Uint8Array>;
}

/** path → where a file written at that path may come from, the first whose text matches winning. */
export type FileOrigins = ReadonlyMap<string, readonly FileOrigin[]>;

/** A package as the engine handles it: text by path, and what the text does not show. */
export interface PackageContents {
  files: Record<string, string>;
  origins: FileOrigins;
}

export const NO_ORIGINS: FileOrigins = new Map();

/**
 * A blob's bytes as the API shows them: UTF-8, with bytes that are not UTF-8 shown as U+FFFD (what
 * Porch's JSON encoding of a Go string does), so such a file cannot be written back from its text.
 */
export function presentText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Whether writing `text` as a regular file gives back exactly this file. */
export function writesBackAsIs(mode: string, bytes: Uint8Array, text: string): boolean {
  // Decoding without a replacement character means the bytes were UTF-8, which re-encodes to itself.
  return mode === REGULAR && (!text.includes('\uFFFD') || Buffer.from(text, 'utf8').equals(bytes));
}

/** The git object id of a blob holding `bytes`. */
export function blobOid(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

/** Every path's origins of `first`, then those of the others. */
export function combineOrigins(...all: FileOrigins[]): FileOrigins {
  const out = new Map<string, FileOrigin[]>();
  for (const origins of all) for (const [path, list] of origins) out.set(path, [...(out.get(path) ?? []), ...list]);
  return out;
}

/** A file to write: the bytes and mode `text` at `path` takes, given where the path's file came from. */
export async function chooseBlob(text: string, candidates: readonly FileOrigin[]): Promise<{ mode: string; bytes: Uint8Array }> {
  const utf8 = Buffer.from(text, 'utf8');
  if (!candidates.length) return { mode: REGULAR, bytes: utf8 };
  const oid = blobOid(utf8);
  for (const c of candidates) if (c.oid === oid) return { mode: c.mode, bytes: utf8 };
  for (const c of candidates) {
    const bytes = await c.bytes();
    if (presentText(bytes) === text) return { mode: c.mode, bytes };
  }
  // Changed text: a script stays executable, as git keeps the bit of an edited file. A symlink does
  // not stay one: text the API was never shown as a link target must not become one.
  return { mode: candidates.some((c) => c.mode === EXECUTABLE) ? EXECUTABLE : REGULAR, bytes: utf8 };
}
