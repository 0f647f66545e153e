import fs from 'node:fs';
import git from 'isomorphic-git';

// Tree reading and writing through isomorphic-git: paths are replaced by rebuilding only the trees on
// the way down to them, so unchanged siblings keep their object ids.

export interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export class TreeIO {
  private readonly treeCache = new Map<string, TreeEntry[]>();

  constructor(readonly gitdir: string) {}

  async readTree(oid: string): Promise<TreeEntry[]> {
    const hit = this.treeCache.get(oid);
    if (hit) return hit;
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid });
    const entries = tree as TreeEntry[];
    if (this.treeCache.size > 50_000) this.treeCache.clear();
    this.treeCache.set(oid, entries);
    return entries;
  }

  async commitTree(commit: string): Promise<string> {
    const { commit: c } = await git.readCommit({ fs, gitdir: this.gitdir, oid: commit });
    return c.tree;
  }

  /** The tree at `path` (slash-separated, "" = root) under `root`, or undefined. */
  async subtree(root: string, path: string): Promise<string | undefined> {
    let cur = root;
    for (const seg of path.split('/').filter(Boolean)) {
      const e = (await this.readTree(cur)).find((x) => x.path === seg);
      if (!e || e.type !== 'tree') return undefined;
      cur = e.oid;
    }
    return cur;
  }

  async readBlob(oid: string): Promise<string> {
    const { blob } = await git.readBlob({ fs, gitdir: this.gitdir, oid });
    return Buffer.from(blob).toString('utf8');
  }

  /** Every file under a tree, keyed by path relative to it. */
  async readFiles(tree: string, prefix = ''): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await this.readTree(tree)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') Object.assign(out, await this.readFiles(e.oid, p));
      else if (e.type === 'blob') out[p] = await this.readBlob(e.oid);
    }
    return out;
  }

  /** Write files (path → content) as a tree; returns its oid. */
  async writeFiles(files: Record<string, string>): Promise<string> {
    const dirs = new Map<string, Record<string, string>>();
    const entries: TreeEntry[] = [];
    for (const [path, content] of Object.entries(files)) {
      const i = path.indexOf('/');
      if (i < 0) {
        const oid = await git.writeBlob({ fs, gitdir: this.gitdir, blob: Buffer.from(content, 'utf8') });
        entries.push({ mode: '100644', path, oid, type: 'blob' });
      } else {
        const d = path.slice(0, i);
        const sub = dirs.get(d) ?? {};
        sub[path.slice(i + 1)] = content;
        dirs.set(d, sub);
      }
    }
    for (const [d, sub] of dirs) entries.push({ mode: '040000', path: d, oid: await this.writeFiles(sub), type: 'tree' });
    return git.writeTree({ fs, gitdir: this.gitdir, tree: entries });
  }

  /** `root` with the tree at `path` replaced by `replacement` (undefined removes it). */
  async replace(root: string | undefined, path: string, replacement: string | undefined): Promise<string> {
    const segs = path.split('/').filter(Boolean);
    const rec = async (tree: string | undefined, i: number): Promise<string | undefined> => {
      const entries = tree ? [...(await this.readTree(tree))] : [];
      const name = segs[i];
      const idx = entries.findIndex((e) => e.path === name);
      const existing = idx >= 0 && entries[idx].type === 'tree' ? entries[idx].oid : undefined;
      const next = i === segs.length - 1 ? replacement : await rec(existing, i + 1);
      if (idx >= 0) entries.splice(idx, 1);
      if (next) entries.push({ mode: '040000', path: name, oid: next, type: 'tree' });
      if (!entries.length && i > 0) return undefined;
      return git.writeTree({ fs, gitdir: this.gitdir, tree: entries });
    };
    return (await rec(root, 0)) ?? git.writeTree({ fs, gitdir: this.gitdir, tree: [] });
  }

  /**
   * Packages under a tree: directories holding a Kptfile (not searched below, as Porch does). Returns
   * path → {tree, kptfile blob}.
   */
  async findPackages(tree: string, prefix = '', out = new Map<string, { tree: string; kptfile: string }>()): Promise<Map<string, { tree: string; kptfile: string }>> {
    const entries = await this.readTree(tree);
    for (const e of entries) {
      if (e.type !== 'tree') continue;
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      const sub = await this.readTree(e.oid);
      const k = sub.find((x) => x.path === 'Kptfile' && x.type === 'blob');
      if (k) out.set(p, { tree: e.oid, kptfile: k.oid });
      else await this.findPackages(e.oid, p, out);
    }
    return out;
  }
}
