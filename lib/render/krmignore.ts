import { textOf } from './file-text.ts';
import type { PackageFiles } from './types.ts';

// kpt reads a package's `.krmignore` (gitignore syntax) and leaves the files it names out of the
// resources: they pass through like any other file. Supported: `*`, `?`, `**`, a leading `/` or an
// inner `/` anchoring the pattern to the package, a trailing `/` for directories, `#` comments.

function toRegExp(pattern: string): RegExp {
  let p = pattern;
  const anchored = p.startsWith('/') || p.slice(0, -1).includes('/');
  p = p.replace(/^\//, '');
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/$/, '');
  const body = p
    .split('**')
    .map((part) => part.replace(/[.+^$()|{}[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
    .join('.*');
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${body}${dirOnly ? '/.+' : '(?:/.+)?'}$`);
}

/** Whether kpt would skip the file because a .krmignore of its package (or a parent) names it. */
export function ignoredBy(files: PackageFiles): (path: string) => boolean {
  const rules: { dir: string; re: RegExp }[] = [];
  for (const path of Object.keys(files)) {
    if (path !== '.krmignore' && !path.endsWith('/.krmignore')) continue;
    const dir = path.slice(0, -'.krmignore'.length);
    for (const line of textOf(path, files[path]).split('\n')) {
      const l = line.trim();
      if (l && !l.startsWith('#') && !l.startsWith('!')) rules.push({ dir, re: toRegExp(l) });
    }
  }
  if (!rules.length) return () => false;
  return (path) => rules.some((r) => path.startsWith(r.dir) && r.re.test(path.slice(r.dir.length)));
}
