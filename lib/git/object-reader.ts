import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

// Raw object reads without isomorphic-git: pack index lookups, zlib, delta application and bounded
// caches. isomorphic-git, without a long-lived cache, re-reads and re-verifies a whole packfile for
// every object, and with one keeps every object it ever read. Anything not found here is left to
// isomorphic-git by the caller (tree.ts).

export type GitObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface RawObject {
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
/** Packs up to this size are read whole while an ObjectReader is told to read in bulk. */
const WHOLE_PACK_BYTES = 64 * 1024 * 1024;
const OID_HEX = /^[0-9a-f]{40}$/;
/** Sets of fetched objects read from memory at once (see ObjectReader.adopt). */
const ADOPTED_SETS = 4;

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
  private whole = false;

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
    if (this.whole && this.size <= WHOLE_PACK_BYTES) {
      // A listing reads objects from all over the pack: one read of it all rather than a 16 KiB
      // window at a time (read again and again, each an allocation and a system call).
      const all = Buffer.allocUnsafe(this.size);
      if (fs.readSync(fd, all, 0, this.size, 0) !== this.size) throw new Error(`short read in ${this.packPath}`);
      this.window = all;
      this.windowAt = 0;
      return all.subarray(offset, offset + len);
    }
    const size = Math.min(Math.max(len, WINDOW_BYTES), this.size - offset);
    const buf = Buffer.allocUnsafe(size);
    if (fs.readSync(fd, buf, 0, size, offset) !== size) throw new Error(`short read in ${this.packPath}`);
    if (size <= WINDOW_BYTES) {
      this.window = buf;
      this.windowAt = offset;
    }
    return buf.subarray(0, len);
  }

  /** Read the pack whole (when small enough) until release(). */
  hold(): void {
    this.whole = true;
  }

  /** Let go of the bytes read (the file stays open). */
  release(): void {
    this.whole = false;
    this.window = undefined;
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

/** Objects resolved while a pack just fetched was indexed, readable by id (see fetchedObjects). */
export interface ResolvedObjects {
  read(oid: string): RawObject | undefined;
}

/**
 * Where isomorphic-git (as patched here, see patches/) leaves the objects it resolved while indexing a
 * fetched pack: on the `cache` object the fetch was given. A listing right after the fetch reads them
 * from there instead of inflating every object of the pack a second time.
 */
const FETCHED_OBJECTS = Symbol.for('isomorphic-git.fetchedObjects');

export function fetchedObjects(cache: object): ResolvedObjects | undefined {
  const found: unknown = (cache as Record<symbol, unknown>)[FETCHED_OBJECTS];
  if (!found || typeof (found as { read?: unknown }).read !== 'function') return undefined;
  const source = found as { read(oid: string): unknown };
  return {
    read(oid) {
      const o = source.read(oid) as { type?: unknown; object?: unknown } | undefined;
      if (!o || !(o.object instanceof Uint8Array) || (o.type !== 'commit' && o.type !== 'tree' && o.type !== 'blob' && o.type !== 'tag')) return undefined;
      const body = Buffer.isBuffer(o.object) ? o.object : Buffer.from(o.object.buffer, o.object.byteOffset, o.object.byteLength);
      return { type: o.type, body };
    },
  };
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
  private bulkReads = false;
  /** Pack indexes the last scan could not read: their objects are only known to isomorphic-git. */
  private unreadablePacks = 0;
  /**
   * Decoded objects keyed by pack id × 2^40 + offset, in two generations: when the young one is full
   * it becomes the old one, and a hit in the old one moves back. Nearly an LRU, without per-insert
   * eviction work.
   */
  private young = new Map<number, RawObject>();
  private old = new Map<number, RawObject>();
  private youngBytes = 0;
  /** Loose object directories as the last has() with a rescan found them. */
  private looseDirs: Set<string> | undefined;
  /** Objects of packs just fetched, read before the packs themselves until trim(). */
  private fetched: ResolvedObjects[] = [];

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
    let unreadable = 0;
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
        if (p && this.bulkReads) p.hold();
        if (p) next.push(p);
        else unreadable++;
      } catch {
        // unreadable index: such objects are left to isomorphic-git
        unreadable++;
      }
    }
    for (const p of old.values()) p.close();
    this.packs = next;
    this.unreadablePacks = unreadable;
    this.packNames = key;
    return true;
  }

  /**
   * Reading many objects from all over the packs (a listing) until trim(): small packs are read whole
   * and kept, rather than a window at a time.
   */
  bulk(): void {
    this.bulkReads = true;
    for (const p of this.packs ?? []) p.hold();
  }

  /** Objects a fetch resolved while indexing its pack: read from there until trim(). */
  adopt(objects: ResolvedObjects): void {
    // A sync fetching many tags one by one adopts as many small sets: only the last few are kept, so
    // a read never asks more than a handful (anything else is still read from its pack).
    this.fetched.push(objects);
    if (this.fetched.length > ADOPTED_SETS) this.fetched.shift();
  }

  read(oid: string): RawObject | undefined {
    if (oid.length !== 40) return undefined;
    for (const f of this.fetched) {
      const hit = f.read(oid);
      if (hit) return hit;
    }
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

  /**
   * Whether the object is stored here, from the pack indexes and the loose object files alone (nothing
   * is inflated). Packs are listed again only when `rescan`: a caller asking about many objects lists
   * them once. Undefined when a pack's index could not be read, so only isomorphic-git can tell.
   */
  has(oid: string, rescan = true): boolean | undefined {
    if (!OID_HEX.test(oid)) return undefined;
    if (rescan || !this.packs || !this.looseDirs) {
      this.scanPacks();
      this.looseDirs = this.scanLooseDirs();
    }
    const bin = Buffer.from(oid, 'hex');
    if (this.packs!.some((p) => p.find(bin) >= 0)) return true;
    // Asked about thousands of objects of a mirror just created (or with everything packed), no
    // file system call is made for a loose object whose directory is not even there.
    if (this.looseDirs.has(oid.slice(0, 2)) && fs.existsSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))) return true;
    return this.unreadablePacks ? undefined : false;
  }

  /** The fan-out directories of loose objects (objects/xx) there are. */
  private scanLooseDirs(): Set<string> {
    try {
      return new Set(fs.readdirSync(join(this.gitdir, 'objects')).filter((n) => n.length === 2));
    } catch {
      return new Set();
    }
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

  /** Drop decoded objects and the packs read whole, and end bulk reading (pack indexes stay open). */
  trim(): void {
    this.bulkReads = false;
    this.fetched = [];
    for (const p of this.packs ?? []) p.release();
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
