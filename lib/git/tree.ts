import { gitFs } from './atomic-fs.ts';
import git from 'isomorphic-git';
import { chooseBlob, NO_ORIGINS, presentText, writesBackAsIs, type FileOrigin, type FileOrigins, type PackageContents } from './file-origin.ts';
import { isGitDirName } from '../api/safe-path.ts';
import { fetchedObjects, ObjectReader, type RawObject } from './object-reader.ts';

// Tree reading and writing. Writes go through isomorphic-git: paths are replaced by rebuilding only the
// trees on the way down to them, so unchanged siblings keep their object ids. Reads go through
// ObjectReader (object-reader.ts) because isomorphic-git, without a long-lived cache, re-reads and
// re-verifies a whole packfile for every object, and with one keeps every object it ever read.
// Whatever the fast path does not recognise as ordinary (other object types, unusual tree entries,
// unparseable headers, missing objects) is handed to isomorphic-git, so results and errors stay the same.

export interface CommitSignature {
  name: string;
  email: string;
  timestamp: number;
  timezoneOffset: number;
}

/** The parts of a commit read here, shaped as isomorphic-git's readCommit returns them. */
export interface CommitObject {
  tree: string;
  parent: string[];
  author: CommitSignature;
  committer: CommitSignature;
  message: string;
}

const TREE_MODES = new Map<string, TreeEntry['type']>([
  ['40000', 'tree'],
  ['040000', 'tree'],
  ['100644', 'blob'],
  ['100755', 'blob'],
  ['120000', 'blob'],
  ['160000', 'commit'],
]);

/**
 * Tree entries as isomorphic-git's readTree gives them (mode "040000" for trees, sorted by path), or
 * undefined for anything this does not handle the same way: non-ASCII names (isomorphic-git sorts by
 * code point and strips some characters before its safety checks) and names it refuses.
 */
function parseTree(body: Buffer): TreeEntry[] | undefined {
  const entries: TreeEntry[] = [];
  let p = 0;
  while (p < body.length) {
    const sp = body.indexOf(32, p);
    const nul = sp < 0 ? -1 : body.indexOf(0, sp);
    if (nul < 0 || nul + 21 > body.length) return undefined;
    for (let i = sp + 1; i < nul; i++) if (body[i] >= 0x80) return undefined;
    const rawMode = body.toString('latin1', p, sp);
    const type = TREE_MODES.get(rawMode);
    if (!type) return undefined;
    const path = body.toString('latin1', sp + 1, nul);
    const lower = path.toLowerCase().replace(/[. ]+$/, '');
    if (path === '.' || path === '..' || /[\\/:]/.test(path) || lower === '.git' || /^\.?git~[1-9]$/.test(lower)) return undefined;
    entries.push({ mode: rawMode === '40000' ? '040000' : rawMode, path, oid: body.toString('hex', nul + 1, nul + 21), type });
    p = nul + 21;
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

/** A copy of a substring that does not keep the string it was cut from alive (V8 slices share it). */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

const MODE_LIST = [...TREE_MODES];

/** `text` (ASCII) is at `start` in `b`. */
function bytesAre(b: Buffer, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (b[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * The type a tree entry mode stands for, checked on the bytes (the modes TREE_MODES accepts): a tree
 * search meets thousands of entries, and no string is made for any of them.
 */
function modeType(b: Buffer, start: number, end: number): TreeEntry['type'] | undefined {
  for (const [mode, type] of MODE_LIST) if (mode.length === end - start && bytesAre(b, start, mode)) return type;
  return undefined;
}

/**
 * Whether the name at [start, end) could be one git refuses as its own directory (`.git` or its 8.3
 * short form `git~N`, in any case, with trailing dots or spaces): only those are looked at closely.
 */
function mayBeGitDir(b: Buffer, start: number, end: number): boolean {
  const first = b[start];
  if (first === 0x2e) return end - start >= 4;
  return (first === 0x67 || first === 0x47) && end - start >= 5 && b[start + 4] === 0x7e;
}

/**
 * The entry `name` of a raw tree, as parseTree would give it, without building the other entries;
 * null when parseTree would not take the tree (then the caller reads it the slow way).
 */
function findInTree(body: Buffer, name: string): TreeEntry | undefined | null {
  const want = Buffer.from(name, 'utf8');
  let found: TreeEntry | undefined;
  let p = 0;
  while (p < body.length) {
    const sp = body.indexOf(32, p);
    const nul = sp < 0 ? -1 : body.indexOf(0, sp);
    if (nul < 0 || nul + 21 > body.length) return null;
    const type = modeType(body, p, sp);
    if (!type) return null;
    for (let i = sp + 1; i < nul; i++) {
      const c = body[i];
      if (c >= 0x80 || c === 0x2f || c === 0x5c || c === 0x3a) return null;
    }
    const first = body[sp + 1];
    const len = nul - sp - 1;
    if (len === 0 || (first === 0x2e && (len === 1 || (len === 2 && body[sp + 2] === 0x2e)))) return null;
    if (mayBeGitDir(body, sp + 1, nul)) {
      const lower = body.toString('latin1', sp + 1, nul).toLowerCase().replace(/[. ]+$/, '');
      if (lower === '.git' || /^\.?git~[1-9]$/.test(lower)) return null;
    }
    if (!found && len === want.length && body.compare(want, 0, want.length, sp + 1, nul) === 0) {
      const mode = body.toString('latin1', p, sp);
      found = { mode: mode === '40000' ? '040000' : mode, path: name, oid: body.toString('hex', nul + 1, nul + 21), type };
    }
    p = nul + 21;
  }
  return found;
}

function parseSignature(value: string): CommitSignature | undefined {
  const m = /^(.*) <(.*)> (.*) (.*)$/.exec(value);
  const tz = m && /(\+|-)(\d\d)(\d\d)/.exec(m[4]);
  if (!m || !tz) return undefined;
  const minutes = (tz[1] === '+' ? 1 : -1) * (Number(tz[2]) * 60 + Number(tz[3]));
  // isomorphic-git reports the offset with the opposite sign (minutes behind UTC), keeping +0000 as 0.
  return { name: own(m[1]), email: own(m[2]), timestamp: Number(m[3]), timezoneOffset: minutes === 0 ? 0 : -minutes };
}

/**
 * A commit parsed the way isomorphic-git does it (the first header is the tree, the parents follow it,
 * the first author and committer count, lines starting with a space continue the header before). Read
 * from the buffer field by field, so what callers keep does not pin the whole commit text.
 */
function parseCommit(body: Buffer): CommitObject | undefined {
  const split = body.indexOf('\n\n');
  if (split < 0) return undefined;
  let tree: string | undefined;
  const parent: string[] = [];
  let author: CommitSignature | undefined;
  let committer: CommitSignature | undefined;
  let inParents = true;
  // Whether the header before was one read here: a continuation line would become part of its value.
  let used = false;
  for (let pos = 0, first = true; pos < split; first = false) {
    const nl = body.indexOf(10, pos);
    const end = nl < 0 || nl > split ? split : nl;
    const lineStart = pos;
    pos = end + 1;
    if (body[lineStart] === 32 && !first) {
      if (used) return undefined;
      continue;
    }
    used = false;
    const sp = body.indexOf(32, lineStart);
    if (sp < 0 || sp >= end) return undefined;
    const key = body.toString('latin1', lineStart, sp);
    if (first) {
      if (key !== 'tree') return undefined;
      tree = body.toString('utf8', sp + 1, end);
      used = true;
      continue;
    }
    if (key === 'parent' && inParents) {
      parent.push(body.toString('utf8', sp + 1, end));
      used = true;
      continue;
    }
    inParents = false;
    if (key === 'author' && !author) {
      author = parseSignature(body.toString('utf8', sp + 1, end));
      if (!author) return undefined;
      used = true;
    } else if (key === 'committer' && !committer) {
      committer = parseSignature(body.toString('utf8', sp + 1, end));
      if (!committer) return undefined;
      used = true;
    }
  }
  if (tree === undefined || !author || !committer) return undefined;
  const message = body.toString('utf8', split + 2).replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '') + '\n';
  return { tree, parent, author, committer, message };
}

/** Trees known to hold only names git checks out; dropped wholesale beyond this. */
const SAFE_TREES_KEPT = 50_000;

/** A tree holding a name git refuses to check out. */
export class UnsafeTreeError extends Error {
  constructor(readonly entry: string) {
    super(`the tree holds the name ${JSON.stringify(entry)}, which git refuses to check out`);
    this.name = 'UnsafeTreeError';
  }
}

export class TreeIO {
  private readonly treeCache = new Map<string, TreeEntry[]>();
  private readonly safeTrees = new Set<string>();
  private treeCacheEntries = 0;
  private readonly commitCache = new Map<string, CommitObject>();
  private readonly objects: ObjectReader;

  constructor(readonly gitdir: string) {
    this.objects = new ObjectReader(gitdir);
  }

  private raw(oid: string): RawObject | undefined {
    try {
      return this.objects.read(oid);
    } catch {
      return undefined;
    }
  }

  /**
   * Throws UnsafeTreeError when a name anywhere beneath `tree` is one git refuses to check out (`.git`
   * in any spelling, `.`, `..`, a slash, the same name twice). Trees never change, so each is checked once.
   */
  async checkSafe(tree: string): Promise<void> {
    if (this.safeTrees.has(tree)) return;
    const seen = new Set<string>();
    for (const e of await this.readTree(tree)) {
      if (!e.path || e.path === '.' || e.path === '..' || e.path.includes('/') || isGitDirName(e.path) || seen.has(e.path)) throw new UnsafeTreeError(e.path);
      seen.add(e.path);
      if (e.type === 'tree') await this.checkSafe(e.oid);
    }
    if (this.safeTrees.size >= SAFE_TREES_KEPT) this.safeTrees.clear();
    this.safeTrees.add(tree);
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const hit = this.treeCache.get(oid);
    if (hit) return hit;
    const raw = this.raw(oid);
    const parsed = raw?.type === 'tree' ? parseTree(raw.body) : undefined;
    const entries = parsed ?? ((await git.readTree({ fs: gitFs, gitdir: this.gitdir, oid })).tree as TreeEntry[]);
    // Bounded by entries held: trees are cheap to re-read, and most are read once per listing.
    if (this.treeCacheEntries > 8_000) {
      this.treeCache.clear();
      this.treeCacheEntries = 0;
    }
    this.treeCache.set(oid, entries);
    this.treeCacheEntries += entries.length + 1;
    return entries;
  }

  /** A commit, as isomorphic-git's readCommit returns it (annotated tags are peeled). */
  async readCommit(oid: string): Promise<CommitObject> {
    const hit = this.commitCache.get(oid);
    if (hit) return hit;
    const raw = this.raw(oid);
    const parsed = raw?.type === 'commit' ? parseCommit(raw.body) : undefined;
    if (parsed) {
      // Small: it only saves re-parsing the commits a listing just read (history walks, peeled tags).
      if (this.commitCache.size >= 512) this.commitCache.delete(this.commitCache.keys().next().value as string);
      this.commitCache.set(oid, parsed);
      return parsed;
    }
    const { commit } = await git.readCommit({ fs: gitFs, gitdir: this.gitdir, oid });
    return commit;
  }

  /**
   * The objects of `oids` this repository does not hold, asked of the pack indexes and loose object
   * files (packs listed once): a miss reads nothing, which matters when a fresh mirror checks
   * thousands of advertised refs. Only where a pack index is unreadable does isomorphic-git decide.
   */
  async missing(oids: Iterable<string>): Promise<Set<string>> {
    const out = new Set<string>();
    let rescan = true;
    for (const oid of oids) {
      const known = this.objects.has(oid, rescan);
      rescan = false;
      if (known === false) out.add(oid);
      else if (known === undefined && !(await git.readObject({ fs: gitFs, gitdir: this.gitdir, oid, format: 'deflated' }).then(() => true, () => false))) out.add(oid);
    }
    return out;
  }

  /** The object an annotated tag points at, followed until it is not a tag. */
  async peel(oid: string): Promise<string> {
    for (let depth = 0; depth < 100; depth++) {
      const raw = this.raw(oid);
      if (!raw) break;
      if (raw.type !== 'tag') return oid;
      const m = /^object ([0-9a-f]{40})\n/.exec(raw.body.toString('latin1', 0, 48));
      if (!m) break;
      oid = m[1];
    }
    const { type, object } = await git.readObject({ fs: gitFs, gitdir: this.gitdir, oid, format: 'parsed' });
    if (type === 'tag') return this.peel((object as { object: string }).object);
    return oid;
  }

  /** The objects a fetch given `cache` resolved, read from memory until trim(). */
  adoptFetched(cache: object): void {
    const objects = fetchedObjects(cache);
    if (objects) this.objects.adopt(objects);
  }

  /** Many objects are about to be read (a listing), until trim(). */
  bulk(): void {
    this.objects.bulk();
  }

  /**
   * Forget what was read: a long-lived repository holds its listing, not the trees and commits that
   * produced it, so memory stays proportional to the revisions rather than to the last listing's reads.
   */
  trim(): void {
    this.objects.trim();
    this.commitCache.clear();
    this.treeCache.clear();
    this.treeCacheEntries = 0;
  }

  close(): void {
    this.objects.close();
    this.commitCache.clear();
    this.treeCache.clear();
    this.treeCacheEntries = 0;
  }

  async commitTree(commit: string): Promise<string> {
    return (await this.readCommit(commit)).tree;
  }

  /** The tree at `path` (slash-separated, "" = root) under `root`, or undefined. */
  async subtree(root: string, path: string): Promise<string | undefined> {
    let cur = root;
    for (const seg of path.split('/').filter(Boolean)) {
      // Walking down reads mostly trees seen once (each commit's root, each package's parent), so
      // uncached ones are searched in place rather than parsed whole.
      const raw = this.treeCache.has(cur) ? undefined : this.raw(cur);
      const found = raw?.type === 'tree' ? findInTree(raw.body, seg) : null;
      const e = found === null ? (await this.readTree(cur)).find((x) => x.path === seg) : found;
      if (!e || e.type !== 'tree') return undefined;
      cur = e.oid;
    }
    return cur;
  }

  async readBlobBytes(oid: string): Promise<Uint8Array> {
    const raw = this.raw(oid);
    if (raw?.type === 'blob') return raw.body;
    return (await git.readBlob({ fs: gitFs, gitdir: this.gitdir, oid })).blob;
  }

  async readBlob(oid: string): Promise<string> {
    return presentText(await this.readBlobBytes(oid));
  }

  /** Every file under a tree, keyed by path relative to it. */
  async readFiles(tree: string): Promise<Record<string, string>> {
    return (await this.readContents(tree)).files;
  }

  /**
   * Every file under a tree as text, with the origin of each file its text does not give back exactly
   * (not a regular file, or not UTF-8); those keep their bytes, as they may outlive this repository.
   */
  async readContents(tree: string, prefix = '', out: { files: Record<string, string>; origins: Map<string, FileOrigin[]> } = { files: {}, origins: new Map() }): Promise<PackageContents> {
    for (const e of await this.readTree(tree)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') await this.readContents(e.oid, p, out);
      else if (e.type === 'blob') {
        const bytes = await this.readBlobBytes(e.oid);
        const text = presentText(bytes);
        out.files[p] = text;
        if (!writesBackAsIs(e.mode, bytes, text)) out.origins.set(p, [{ mode: e.mode, oid: e.oid, bytes: async () => bytes }]);
      }
    }
    return out;
  }

  /** The origin of every file under a tree, read only when asked: what a rewrite of it starts from. */
  async treeOrigins(tree: string, prefix = '', out = new Map<string, FileOrigin[]>()): Promise<FileOrigins> {
    for (const e of await this.readTree(tree)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') await this.treeOrigins(e.oid, p, out);
      else if (e.type === 'blob') out.set(p, [{ mode: e.mode, oid: e.oid, bytes: () => this.readBlobBytes(e.oid) }]);
    }
    return out;
  }

  /**
   * Write files (path → content) as a tree; returns its oid. A file whose text is what one of its
   * `origins` was shown as is written with that origin's bytes and mode.
   */
  async writeFiles(files: Record<string, string>, origins: FileOrigins = NO_ORIGINS, prefix = ''): Promise<string> {
    const dirs = new Map<string, Record<string, string>>();
    const entries: TreeEntry[] = [];
    for (const [path, content] of Object.entries(files)) {
      const i = path.indexOf('/');
      if (i < 0) {
        const { mode, bytes } = await chooseBlob(content, origins.get(prefix ? `${prefix}/${path}` : path) ?? []);
        const oid = await git.writeBlob({ fs: gitFs, gitdir: this.gitdir, blob: bytes });
        entries.push({ mode, path, oid, type: 'blob' });
      } else {
        const d = path.slice(0, i);
        const sub = dirs.get(d) ?? {};
        sub[path.slice(i + 1)] = content;
        dirs.set(d, sub);
      }
    }
    for (const [d, sub] of dirs) entries.push({ mode: '040000', path: d, oid: await this.writeFiles(sub, origins, prefix ? `${prefix}/${d}` : d), type: 'tree' });
    return git.writeTree({ fs: gitFs, gitdir: this.gitdir, tree: entries });
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
      return git.writeTree({ fs: gitFs, gitdir: this.gitdir, tree: entries });
    };
    return (await rec(root, 0)) ?? git.writeTree({ fs: gitFs, gitdir: this.gitdir, tree: [] });
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
