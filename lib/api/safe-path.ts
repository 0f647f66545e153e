// The one rule for a file path a request puts into a package: it becomes a path in a git tree, and
// later a path on someone's disk when the package is checked out. Refused are the names git itself
// refuses to check out (its verify_path, with the NTFS and HFS+ protections it turns on by default):
// anything that is, or on some file system becomes, `.git` in any case — `.GIT`, `.git.`, `.git `,
// `git~1`, `.git::$INDEX_ALLOCATION`, `.g\u200cit` — and `.`, `..`, empty components, absolute
// paths, backslashes, NUL and control characters. A path that is both a file and a directory of the
// package (`Kptfile` and `Kptfile/x`) cannot be written as a tree either.

/** Code points HFS+ ignores in names, so `.g\u200cit` is `.git` on a Mac. */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/** Linux's PATH_MAX: no checkout could hold a longer path. */
export const MAX_PATH = 4096;

/** Whether one path component would be, or on NTFS/HFS+ become, git's own directory. */
export function isGitDirName(component: string): boolean {
  const name = component.replace(HFS_IGNORED, '').toLowerCase();
  // NTFS drops trailing dots and spaces and reads `name:stream` as `name`; `git~1` is .git's short name.
  return /^\.git[. ]*(:.*)?$/.test(name) || /^git~[1-9]$/.test(name);
}

/** Why `path` cannot be a file of a package, or undefined when it can. */
export function unsafePathProblem(path: string): string | undefined {
  if (!path) return 'must not be empty';
  if (path.length > MAX_PATH) return `must not be longer than ${MAX_PATH} characters`;
  if (path.startsWith('/')) return 'must be a relative path inside the package';
  if (path.endsWith('/')) return 'must name a file, not end with "/"';
  if (path.includes('\\')) return 'must use "/" as the separator, not "\\"';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain NUL or control characters';
  for (const c of path.split('/')) {
    if (c === '' || c === '.' || c === '..') return 'must be a relative path inside the package without empty, "." or ".." segments';
    if (isGitDirName(c)) return `must not have a ".git" component (in any case or spelling git would check out as .git): "${c}"`;
  }
  return undefined;
}

interface Dir {
  file?: string;
  entries: Map<string, Dir>;
}

/** Each path that is also a directory of another path of the set, with the path beneath it. */
export function fileDirectoryClashes(paths: Iterable<string>): [file: string, beneath: string][] {
  // A tree of components, so each path is walked once whatever its depth.
  const root: Dir = { entries: new Map() };
  const out: [string, string][] = [];
  const sorted = [...paths].sort();
  for (const p of sorted) {
    let node = root;
    for (const c of p.split('/')) {
      if (node.file !== undefined) {
        out.push([node.file, p]);
        break;
      }
      let next = node.entries.get(c);
      if (!next) node.entries.set(c, (next = { entries: new Map() }));
      node = next;
    }
    if (node.file === undefined && node.entries.size === 0) node.file = p;
  }
  return out;
}

/** Every problem with a set of package file paths, one message per offending path. */
export function packagePathProblems(paths: Iterable<string>): { path: string; message: string }[] {
  const list = [...paths];
  const out: { path: string; message: string }[] = [];
  for (const path of list) {
    const problem = unsafePathProblem(path);
    if (problem) out.push({ path, message: problem });
  }
  for (const [file, beneath] of fileDirectoryClashes(list)) out.push({ path: file, message: `is a file and also a directory holding "${beneath}"` });
  return out;
}
