// Files that are not resources (README.md, scripts, …), merged whole as kpt merges them: a file the
// local package changed, or added, stays as it is locally; every other file becomes upstream's
// version — including one the local package deleted, which comes back — and one upstream deleted
// goes, unless the local package changed it.

export function mergePlainFiles(
  paths: Iterable<string>,
  original: Record<string, string>,
  updated: Record<string, string>,
  local: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of paths) {
    const l = local[path];
    const o = original[path];
    const u = updated[path];
    const changedLocally = l !== undefined && (o === undefined || l !== o);
    if (changedLocally) out[path] = l;
    else if (u !== undefined) out[path] = u;
  }
  return out;
}
