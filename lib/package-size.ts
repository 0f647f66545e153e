import { StatusError } from './errors.ts';

// One limit (--max-package-bytes) for what a package may hold, however it is made: a clone's
// upstream fetch, a task's result, a PackageRevisionResources write.

/** A package's size as the limit counts it: every file's path and content, in bytes. */
export function packageBytes(files: Record<string, string>): number {
  let n = 0;
  for (const [path, content] of Object.entries(files)) n += Buffer.byteLength(path) + Buffer.byteLength(content);
  return n;
}

/**
 * 413, as kube-apiserver answers a body over its limit: the content the request asks the server to
 * store is too large (422 would say the request could be fixed by changing a field; it cannot).
 */
export function packageTooLarge(what: string, limit: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `${what} is larger than the limit of ${limit} bytes (--max-package-bytes)`);
}

/** Throws the 413 when `files` exceed `limit`. */
export function checkPackageSize(what: string, files: Record<string, string>, limit: number): void {
  const size = packageBytes(files);
  if (size > limit) throw packageTooLarge(`${what} (${size} bytes)`, limit);
}
