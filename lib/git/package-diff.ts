import type { TreeIO } from './tree.ts';

// Packages under a tree, found again after the tree changed: only directories whose tree differs
// from the previous answer's are read, so a branch that moved by one package's commit costs a few
// tree reads instead of one per package on the branch.

export interface PackageDir {
  tree: string;
  kptfile: string;
}

export interface FoundPackages {
  root: string;
  found: ReadonlyMap<string, PackageDir>;
}

export async function findPackagesSince(io: TreeIO, root: string, prev: FoundPackages | undefined): Promise<Map<string, PackageDir>> {
  if (!prev) return io.findPackages(root);
  if (prev.root === root) return new Map(prev.found);
  const out = new Map<string, PackageDir>();
  const unchanged = new Set<string>();
  await walk(io, root, prev.root, '', unchanged, out);
  if (unchanged.size)
    for (const [path, dir] of prev.found) {
      const parts = path.split('/');
      for (let i = 1; i <= parts.length; i++)
        if (unchanged.has(parts.slice(0, i).join('/'))) {
          out.set(path, dir);
          break;
        }
    }
  // Same order as a fresh walk gives: callers list in it.
  return new Map([...out].sort(([a], [b]) => compareTreePaths(a, b)));
}

/** Directories of `tree` compared with those of `old` (undefined: nothing was there). */
async function walk(io: TreeIO, tree: string, old: string | undefined, prefix: string, unchanged: Set<string>, out: Map<string, PackageDir>): Promise<void> {
  const before = old ? new Map((await io.readTree(old)).map((e) => [e.path, e])) : new Map();
  for (const e of await io.readTree(tree)) {
    if (e.type !== 'tree') continue;
    const p = prefix ? `${prefix}/${e.path}` : e.path;
    const was = before.get(e.path);
    if (was?.type === 'tree' && was.oid === e.oid) {
      unchanged.add(p);
      continue;
    }
    const k = (await io.readTree(e.oid)).find((x) => x.path === 'Kptfile' && x.type === 'blob');
    if (k) out.set(p, { tree: e.oid, kptfile: k.oid });
    else await walk(io, e.oid, was?.type === 'tree' ? was.oid : undefined, p, unchanged, out);
  }
}

/** The order a depth-first walk gives: tree entries come by name (as the tree reader sorts them), level by level. */
function compareTreePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}
