import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';

// Loose objects and refs of a bare repository, written in this process byte for byte as `git hash-object
// -w`, `mktree`, `commit-tree` and `update-ref` write them: a fixture of a few hundred objects then costs
// no git process per object. Reading covers loose objects and refs only; callers ask git for the rest
// (packed objects, annotated tags, revision expressions).

export interface TreeEntry {
  /** As `git ls-tree` prints it: 100644, 100755, 120000, 040000, 160000. */
  mode: string;
  type: string;
  oid: string;
  name: string;
}

export interface Signature {
  name: string;
  email: string;
}

function objectPath(gitdir: string, oid: string): string {
  return join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/** Replaces `path` in one step, as git does through a lock file, so a concurrent reader sees old or new. */
function writeAtomically(path: string, data: string | Buffer, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.lock`;
  writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
  renameSync(tmp, path);
}

export function writeObject(gitdir: string, type: string, body: Buffer): string {
  const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  const oid = createHash('sha1').update(raw).digest('hex');
  const path = objectPath(gitdir, oid);
  if (!existsSync(path)) writeAtomically(path, deflateSync(raw), 0o444);
  return oid;
}

/** A loose object's type and body; undefined when it is not loose (packed, or absent). */
export function readLooseObject(gitdir: string, oid: string): { type: string; body: Buffer } | undefined {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(objectPath(gitdir, oid)));
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  return { type: raw.subarray(0, raw.indexOf(0x20)).toString('latin1'), body: raw.subarray(nul + 1) };
}

const isTree = (mode: string) => mode.replace(/^0+/, '') === '40000';

/** git's tree order: names compared as bytes, a directory as if its name ended in "/". */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const key = (e: TreeEntry) => Buffer.from(isTree(e.mode) ? `${e.name}/` : e.name);
  return Buffer.compare(key(a), key(b));
}

export function treeBody(entries: TreeEntry[]): Buffer {
  return Buffer.concat(
    [...entries].sort(treeOrder).flatMap((e) => [Buffer.from(`${e.mode.replace(/^0+/, '')} ${e.name}\0`), Buffer.from(e.oid, 'hex')]),
  );
}

export function parseTree(body: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (let i = 0; i < body.length; ) {
    const space = body.indexOf(0x20, i);
    const nul = body.indexOf(0, space);
    const mode = body.subarray(i, space).toString('latin1').padStart(6, '0');
    const oid = body.subarray(nul + 1, nul + 21).toString('hex');
    out.push({ mode, type: isTree(mode) ? 'tree' : mode === '160000' ? 'commit' : 'blob', oid, name: body.subarray(space + 1, nul).toString('utf8') });
    i = nul + 21;
  }
  return out;
}

/** The body `git commit-tree` writes: the message is taken as given. */
export function commitBody(args: { tree: string; parents: string[]; author: Signature; committer: Signature; date: string; message: string }): Buffer {
  const parents = args.parents.map((p) => `parent ${p}\n`).join('');
  const who = (s: Signature) => `${s.name} <${s.email}> ${args.date}`;
  return Buffer.from(`tree ${args.tree}\n${parents}author ${who(args.author)}\ncommitter ${who(args.committer)}\n\n${args.message}`);
}

/** The tree a commit body names. */
export function commitTree(body: Buffer): string {
  return /^tree ([0-9a-f]{40})\n/.exec(body.toString('latin1'))?.[1] ?? '';
}

function packedRefLines(gitdir: string): string[] {
  try {
    return readFileSync(join(gitdir, 'packed-refs'), 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** A full ref name's value, loose first, then packed-refs; undefined when there is no such ref. */
export function readRef(gitdir: string, ref: string): string | undefined {
  try {
    const loose = readFileSync(join(gitdir, ref), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(loose)) return loose;
    if (loose.startsWith('ref: ')) return readRef(gitdir, loose.slice(5));
  } catch {
    // Not loose.
  }
  const line = packedRefLines(gitdir).find((l) => l.endsWith(` ${ref}`) && !l.startsWith('#'));
  return line?.slice(0, 40);
}

export function writeRef(gitdir: string, ref: string, oid: string): void {
  writeAtomically(join(gitdir, ref), `${oid}\n`);
}

/** Removes the loose ref, its packed-refs entry, and directories it leaves empty, as `update-ref -d` does. */
export function deleteRef(gitdir: string, ref: string): void {
  const lines = packedRefLines(gitdir);
  const at = lines.findIndex((l) => l.endsWith(` ${ref}`) && !l.startsWith('#'));
  if (at >= 0) {
    const peeled = lines[at + 1]?.startsWith('^') ? 2 : 1;
    writeAtomically(join(gitdir, 'packed-refs'), [...lines.slice(0, at), ...lines.slice(at + peeled)].join('\n'));
  }
  try {
    unlinkSync(join(gitdir, ref));
  } catch {
    return;
  }
  // refs/heads and refs/tags themselves stay.
  const parts = ref.split('/');
  for (let depth = parts.length - 1; depth > 2; depth--) {
    const dir = join(gitdir, ...parts.slice(0, depth));
    if (readdirSync(dir).length) break;
    rmdirSync(dir);
  }
}
