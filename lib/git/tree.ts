import fs from 'node:fs';
import { gitFs } from './atomic-fs.ts';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import git from 'isomorphic-git';

// Tree reading and writing. Writes go through isomorphic-git: paths are replaced by rebuilding only the
// trees on the way down to them, so unchanged siblings keep their object ids. Reads go through
// ObjectReader below (pack index lookups, zlib, delta application, bounded caches) because
// isomorphic-git, without a long-lived cache, re-reads and re-verifies a whole packfile for every
// object, and with one keeps every object it ever read. Whatever the fast path does not recognise as
// ordinary (other object types, unusual tree entries, unparseable headers, missing objects) is handed
// to isomorphic-git, so results and errors stay the same.

export type GitObjectType = 'commit' | 'tree' | 'blob' | 'tag';

interface RawObject {
  type: GitObjectType;
  body: Buffer;
}

const PACK_TYPES: Record<number, GitObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
const IDX_MAGIC = 0xff744f63;
const FANOUT = 8;
const NAMES = FANOUT + 256 * 4;
const WINDOW_BYTES = 16 * 1024;

/** One pack: its .idx kept as the raw buffer (binary search), the .pack read at offsets on demand. */
class Pack {
  readonly count: number;
  private readonly offsetsAt: number;
  private readonly largeAt: number;
  private sorted: Uint32Array | Float64Array | undefined;
  private fd: number | undefined;
  private size = 0;
  /** The last chunk read from the pack: objects are mostly read in pack order, many per chunk. */
  private window: Buffer | undefined;
  private windowAt = 0;

  private constructor(
    readonly id: number,
    readonly packPath: string,
    private readonly idx: Buffer,
  ) {
    this.count = idx.readUInt32BE(FANOUT + 255 * 4);
    this.offsetsAt = NAMES + this.count * 20 + this.count * 4;
    this.largeAt = this.offsetsAt + this.count * 4;
  }

  static open(id: number, idxPath: string): Pack | undefined {
    const idx = fs.readFileSync(idxPath);
    if (idx.length < NAMES + 40 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return undefined;
    return new Pack(id, idxPath.replace(/\.idx$/, '.pack'), idx);
  }

  /** Offset of the object in the pack, or -1. */
  find(oid: Buffer): number {
    const first = oid[0];
    let lo = first === 0 ? 0 : this.idx.readUInt32BE(FANOUT + (first - 1) * 4);
    let hi = this.idx.readUInt32BE(FANOUT + first * 4);
    const head = oid.readUInt32BE(0);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = NAMES + mid * 20;
      // c compares the index entry with the wanted id: the first four bytes decide almost always.
      const h = this.idx.readUInt32BE(at);
      const c = h !== head ? h - head : this.idx.compare(oid, 0, 20, at, at + 20);
      if (c === 0) return this.offsetOf(mid);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  private offsetOf(i: number): number {
    const v = this.idx.readUInt32BE(this.offsetsAt + i * 4);
    if (!(v & 0x80000000)) return v;
    const at = this.largeAt + (v & 0x7fffffff) * 8;
    return this.idx.readUInt32BE(at) * 0x100000000 + this.idx.readUInt32BE(at + 4);
  }

  private open(): number {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.packPath, 'r');
      this.size = fs.fstatSync(this.fd).size;
    }
    return this.fd;
  }

  /** Where the object starting at `offset` ends: the next object's offset, or the trailer. */
  private end(offset: number): number {
    if (!this.sorted) {
      // Offsets past 4 GiB only exist in packs that large.
      const all = this.idx.length > this.largeAt + 40 ? new Float64Array(this.count) : new Uint32Array(this.count);
      for (let i = 0; i < this.count; i++) all[i] = this.offsetOf(i);
      this.sorted = all.sort();
    }
    const s = this.sorted;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < s.length ? s[lo] : this.size - 20;
  }

  /** The stored entry at `offset`: type code, inflated data, and for deltas where the base is. */
  entry(offset: number): { code: number; data: Buffer; baseOffset?: number; baseOid?: Buffer } {
    const buf = this.bytes(offset, this.end(offset) - offset);
    let c = buf[0];
    const code = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    let p = 1;
    while (c & 0x80) {
      c = buf[p++];
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let baseOffset: number | undefined;
    let baseOid: Buffer | undefined;
    if (code === OFS_DELTA) {
      c = buf[p++];
      let rel = c & 0x7f;
      while (c & 0x80) {
        c = buf[p++];
        rel = (rel + 1) * 128 + (c & 0x7f);
      }
      baseOffset = offset - rel;
    } else if (code === REF_DELTA) {
      baseOid = buf.subarray(p, p + 20);
      p += 20;
    }
    // The inflated size is known: one output chunk of that size instead of zlib's default 16 KiB ones.
    const data = inflateSync(buf.subarray(p), { chunkSize: Math.max(64, size + 1) });
    if (data.length !== size) throw new Error(`object at ${offset} in ${this.packPath} inflated to ${data.length} bytes, expected ${size}`);
    return { code, data, baseOffset, baseOid };
  }

  private bytes(offset: number, len: number): Buffer {
    const w = this.window;
    if (w && offset >= this.windowAt && offset + len <= this.windowAt + w.length) return w.subarray(offset - this.windowAt, offset - this.windowAt + len);
    const fd = this.open();
    const size = Math.min(Math.max(len, WINDOW_BYTES), this.size - offset);
    const buf = Buffer.allocUnsafe(size);
    if (fs.readSync(fd, buf, 0, size, offset) !== size) throw new Error(`short read in ${this.packPath}`);
    if (size <= WINDOW_BYTES) {
      this.window = buf;
      this.windowAt = offset;
    }
    return buf.subarray(0, len);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.window = undefined;
  }
}

/** Git's delta format: base size, result size, then copy-from-base and insert instructions. */
function applyDelta(delta: Buffer, base: Buffer): Buffer {
  let p = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[p++];
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return v;
  };
  if (varint() !== base.length) throw new Error('delta base size mismatch');
  const out = Buffer.allocUnsafe(varint());
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      if (op & 0x01) off += delta[p++];
      if (op & 0x02) off += delta[p++] * 0x100;
      if (op & 0x04) off += delta[p++] * 0x10000;
      if (op & 0x08) off += delta[p++] * 0x1000000;
      if (op & 0x10) len += delta[p++];
      if (op & 0x20) len += delta[p++] * 0x100;
      if (op & 0x40) len += delta[p++] * 0x10000;
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > out.length) throw new Error('delta copy out of range');
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op) {
      if (o + op > out.length || p + op > delta.length) throw new Error('delta insert out of range');
      delta.copy(out, o, p, p + op);
      o += op;
      p += op;
    } else throw new Error('delta opcode 0');
  }
  if (o !== out.length) throw new Error('delta result size mismatch');
  return out;
}

/**
 * Raw object reads from a git directory: packs (looked up first) and loose objects. Returns undefined
 * when the object is not found, so callers can defer to isomorphic-git. Decoded pack objects are kept
 * in a small LRU so delta chains read in sequence cost one inflate each.
 */
export class ObjectReader {
  private packs: Pack[] | undefined;
  private packNames = '';
  private nextPackId = 0;
  /**
   * Decoded objects keyed by pack id × 2^40 + offset, in two generations: when the young one is full
   * it becomes the old one, and a hit in the old one moves back. Nearly an LRU, without per-insert
   * eviction work.
   */
  private young = new Map<number, RawObject>();
  private old = new Map<number, RawObject>();
  private youngBytes = 0;

  constructor(
    readonly gitdir: string,
    private readonly maxCacheBytes = 1024 * 1024,
  ) {}

  /** (Re)list objects/pack; keeps packs already open, closes ones that went away. Returns whether it changed. */
  private scanPacks(): boolean {
    let names: string[];
    try {
      names = fs.readdirSync(join(this.gitdir, 'objects', 'pack')).filter((n) => n.endsWith('.idx')).sort();
    } catch {
      names = [];
    }
    const key = names.join('\n');
    if (this.packs && key === this.packNames) return false;
    const old = new Map((this.packs ?? []).map((p) => [p.packPath, p]));
    const next: Pack[] = [];
    for (const n of names) {
      const idxPath = join(this.gitdir, 'objects', 'pack', n);
      const kept = old.get(idxPath.replace(/\.idx$/, '.pack'));
      if (kept) {
        old.delete(kept.packPath);
        next.push(kept);
        continue;
      }
      try {
        const p = Pack.open(this.nextPackId++, idxPath);
        if (p) next.push(p);
      } catch {
        // unreadable index: such objects are left to isomorphic-git
      }
    }
    for (const p of old.values()) p.close();
    this.packs = next;
    this.packNames = key;
    return true;
  }

  read(oid: string): RawObject | undefined {
    if (oid.length !== 40) return undefined;
    const bin = Buffer.from(oid, 'hex');
    if (bin.length !== 20) return undefined;
    if (!this.packs) this.scanPacks();
    const hit = this.fromPacks(bin);
    if (hit) return hit;
    const loose = this.readLoose(oid);
    if (loose) return loose;
    // A fetch or gc may have brought new packs.
    return this.scanPacks() ? this.fromPacks(bin) : undefined;
  }

  private fromPacks(bin: Buffer): RawObject | undefined {
    for (const p of this.packs ?? []) {
      const off = p.find(bin);
      if (off >= 0) return this.readPacked(p, off);
    }
    return undefined;
  }

  private readPacked(pack: Pack, offset: number): RawObject {
    const key = pack.id * 2 ** 40 + offset;
    const cached = this.young.get(key);
    if (cached) return cached;
    const aged = this.old.get(key);
    if (aged) {
      this.remember(key, aged);
      return aged;
    }
    const e = pack.entry(offset);
    let obj: RawObject;
    if (e.code === OFS_DELTA || e.code === REF_DELTA) {
      const base = e.baseOffset !== undefined ? this.readPacked(pack, e.baseOffset) : this.read(e.baseOid!.toString('hex'));
      if (!base) throw new Error(`delta base ${e.baseOid?.toString('hex')} not found`);
      obj = { type: base.type, body: applyDelta(e.data, base.body) };
    } else {
      const type = PACK_TYPES[e.code];
      if (!type) throw new Error(`unknown pack object type ${e.code}`);
      obj = { type, body: e.data };
    }
    this.remember(key, obj);
    return obj;
  }

  /** Drop decoded objects (pack indexes stay open). */
  trim(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngBytes = 0;
  }

  private remember(key: number, obj: RawObject): void {
    if (obj.body.length > this.maxCacheBytes / 8) return;
    if (this.youngBytes > this.maxCacheBytes / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, obj);
    this.youngBytes += obj.body.length + 64;
  }

  private readLoose(oid: string): RawObject | undefined {
    let file: Buffer;
    try {
      file = fs.readFileSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
    } catch {
      return undefined;
    }
    const raw = inflateSync(file);
    // isomorphic-git checks loose objects against their id; a mismatch is left to it to report.
    if (createHash('sha1').update(raw).digest('hex') !== oid) return undefined;
    const nul = raw.indexOf(0);
    const header = raw.toString('latin1', 0, nul);
    const sp = header.indexOf(' ');
    const type = header.slice(0, sp);
    if (type !== 'commit' && type !== 'tree' && type !== 'blob' && type !== 'tag') return undefined;
    const body = raw.subarray(nul + 1);
    if (Number(header.slice(sp + 1)) !== body.length) return undefined;
    return { type, body };
  }

  close(): void {
    for (const p of this.packs ?? []) p.close();
    this.packs = undefined;
    this.packNames = '';
    this.trim();
  }
}

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

/** The type a tree entry mode stands for, checked on the bytes (the modes TREE_MODES accepts). */
function modeType(b: Buffer, start: number, end: number): TreeEntry['type'] | undefined {
  const len = end - start;
  if (len === 5) return b.toString('latin1', start, end) === '40000' ? 'tree' : undefined;
  if (len !== 6) return undefined;
  return TREE_MODES.get(b.toString('latin1', start, end));
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
    if (first === 0x2e || first === 0x67 || first === 0x47) {
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

export class TreeIO {
  private readonly treeCache = new Map<string, TreeEntry[]>();
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

  async readBlob(oid: string): Promise<string> {
    const raw = this.raw(oid);
    if (raw?.type === 'blob') return raw.body.toString('utf8');
    const { blob } = await git.readBlob({ fs: gitFs, gitdir: this.gitdir, oid });
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
        const oid = await git.writeBlob({ fs: gitFs, gitdir: this.gitdir, blob: Buffer.from(content, 'utf8') });
        entries.push({ mode: '100644', path, oid, type: 'blob' });
      } else {
        const d = path.slice(0, i);
        const sub = dirs.get(d) ?? {};
        sub[path.slice(i + 1)] = content;
        dirs.set(d, sub);
      }
    }
    for (const [d, sub] of dirs) entries.push({ mode: '040000', path: d, oid: await this.writeFiles(sub), type: 'tree' });
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
