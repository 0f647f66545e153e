import type { TreeEntry, TreeIO } from './tree.ts';

// The objects a commit adds on top of its parents: the commit, and every tree and blob of its tree
// that no parent holds at the same path. A commit this server writes has parents the remote already
// has (branch heads, draft commits pushed before), so these are what a push of it must carry; a
// directory equal to a parent's is skipped whole, so a package edit sends only its own path.

export async function newObjects(io: TreeIO, commits: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const oid of commits) {
    const c = await io.readCommit(oid);
    out.add(oid);
    const parentTrees = await Promise.all(c.parent.map((p) => io.commitTree(p)));
    await addTree(io, c.tree, parentTrees, out);
  }
  return [...out];
}

async function addTree(io: TreeIO, tree: string, olds: readonly string[], out: Set<string>): Promise<void> {
  if (olds.includes(tree) || out.has(tree)) return;
  out.add(tree);
  const oldEntries: Map<string, TreeEntry>[] = await Promise.all(olds.map(async (t) => new Map((await io.readTree(t)).map((e) => [e.path, e]))));
  for (const e of await io.readTree(tree)) {
    const same = oldEntries.map((m) => m.get(e.path)).filter((x): x is TreeEntry => x !== undefined);
    if (same.some((x) => x.oid === e.oid)) continue;
    if (e.type === 'tree') await addTree(io, e.oid, same.filter((x) => x.type === 'tree').map((x) => x.oid), out);
    else if (e.type === 'blob') out.add(e.oid);
  }
}
