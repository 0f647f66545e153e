import { setImmediate as yieldToLoop } from 'node:timers/promises';
import YAML, { isCollection, isPair, isScalar, type Document } from 'yaml';
import { RenderError } from './errors.ts';
import { textOf } from './file-text.ts';
import { ignoredBy } from './krmignore.ts';
import type { FileContent, KrmItem, PackageFiles } from './types.ts';


// How kpt reads a package: the Kptfile and every .yaml/.yml file are resources (each document must
// be a KRM object); anything else passes through. A file is written back only when one of its
// resources changed, so untouched files keep their bytes (kpt reformats every file it reads).

export function isKrmFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'Kptfile' || /\.ya?ml$/.test(base);
}

/** The directory of each Kptfile: '' for the root package, then subpackages. */
export function packageDirs(files: PackageFiles): string[] {
  return Object.keys(files)
    .filter((p) => p === 'Kptfile' || p.endsWith('/Kptfile'))
    .map((p) => p.slice(0, -'Kptfile'.length).replace(/\/$/, ''));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** apiVersion, kind and metadata.name, or why the document is not a KRM resource. */
export function krmProblem(doc: Document): string | undefined {
  const js: unknown = doc.toJS();
  if (js === null || typeof js !== 'object' || Array.isArray(js)) return 'resource must be a map';
  const o = js as Record<string, unknown>;
  if (!str(o.apiVersion)) return 'resource must have `apiVersion`';
  if (!str(o.kind)) return 'resource must have `kind`';
  const md = o.metadata;
  if (md === null || typeof md !== 'object' || !str((md as Record<string, unknown>).name)) return 'resource must have `metadata.name`';
  return undefined;
}

/** The non-empty documents of a YAML file; invalid YAML fails the render as kpt's reader does. */
export function parseDocs(path: string, text: string): Document[] {
  const docs = YAML.parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const out: Document[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new RenderError('invalid-resources', `${path}: ${d.errors[0].message.split('\n')[0]}`);
    if (d.contents === null) continue;
    keepKeyLineComments(d as Document, text);
    out.push(d as Document);
  }
  return out;
}

/**
 * `key: # comment` above a block map or list: the parser hands the comment to the value, which prints
 * it on a line of its own; moved to the key, it stays on the key's line (where setters' comments are).
 */
function keepKeyLineComments(doc: Document, text: string): void {
  YAML.visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !isCollection(pair.value) || !pair.value.commentBefore || pair.key.comment) return;
      const end = pair.key.range?.[1];
      if (end === undefined) return;
      const line = text.slice(end, text.indexOf('\n', end) >>> 0);
      if (!/^\s*:\s*#/.test(line)) return;
      pair.key.comment = pair.value.commentBefore;
      pair.value.commentBefore = undefined;
    },
  });
}

export interface ReadPackage {
  items: KrmItem[];
  /** The resources each KRM file held, as JSON, to tell an untouched file from a changed one. */
  snapshots: Map<string, string>;
  /** Files written as kyaml writes them: compact (`- ` at the parent's indentation) or wide. */
  compact: Map<string, boolean>;
}

/** A heuristic of kyaml's seqindent: the first block sequence item at its key's indentation. */
function isCompact(text: string): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(text);
  return m ? m[1].length === m[2].length : true;
}

export function snapshot(docs: readonly Document[]): string {
  return JSON.stringify(docs.map((d) => d.toJS()));
}

/** Files parsed between two turns of the event loop, so a large package does not hold it for long. */
const FILES_PER_TURN = 64;

export async function readPackage(files: PackageFiles): Promise<ReadPackage> {
  const items: KrmItem[] = [];
  const snapshots = new Map<string, string>();
  const compact = new Map<string, boolean>();
  let parsed = 0;
  const ignored = ignoredBy(files);
  for (const path of Object.keys(files).sort()) {
    if (!isKrmFile(path) || ignored(path)) continue;
    if (++parsed % FILES_PER_TURN === 0) await yieldToLoop();
    const text = textOf(path, files[path]);
    const docs = parseDocs(path, text);
    docs.forEach((doc, index) => {
      const problem = krmProblem(doc);
      if (problem) throw new RenderError('invalid-resources', `input resource list must contain only KRM resources: ${path}: ${problem}`);
      items.push({ doc, path, index });
    });
    snapshots.set(path, snapshot(docs));
    compact.set(path, isCompact(text));
  }
  return { items, snapshots, compact };
}

function stringify(doc: Document, compact: boolean): string {
  const text = doc.toString({ indentSeq: !compact, lineWidth: 0 });
  return text.startsWith('---') ? text.replace(/^---[^\n]*\n/, '') : text;
}

/**
 * The package after the pipeline: files whose resources are unchanged keep their bytes, changed
 * ones are written document after document in index order, emptied ones are deleted, and files a
 * function created are added.
 */
export async function writePackage(files: PackageFiles, read: ReadPackage, items: readonly KrmItem[]): Promise<Record<string, FileContent>> {
  const byPath = new Map<string, KrmItem[]>();
  for (const it of items) {
    const path = it.path ?? '';
    const list = byPath.get(path);
    if (list) list.push(it);
    else byPath.set(path, [it]);
  }
  const out: Record<string, FileContent> = {};
  for (const [path, content] of Object.entries(files)) if (!read.snapshots.has(path)) out[path] = content;
  let written = 0;
  for (const [path, list] of byPath) {
    if (++written % FILES_PER_TURN === 0) await yieldToLoop();
    list.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const docs = list.map((i) => i.doc);
    if (read.snapshots.get(path) === snapshot(docs)) {
      out[path] = files[path];
      continue;
    }
    const compact = read.compact.get(path) ?? true;
    out[path] = docs.map((d) => stringify(d, compact)).join('---\n');
  }
  return out;
}
