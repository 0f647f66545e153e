import { isMap, isScalar, type Document, type Node, type Pair } from 'yaml';
import { parseAllDocuments } from '../yaml-parse.ts';
import type { Steps } from '../yield.ts';
import { isRecord } from '../util.ts';
import { MergeError } from './errors.ts';
import { field } from './nodes.ts';
import { groupOf, type ResourceType } from './schema.ts';

// A package's YAML files as documents, each known by the identity kpt merges it under: its file,
// API group, kind, namespace and name. A resource kpt cloned carries its upstream namespace and
// name in a `# kpt-merge: ns/name` comment on the `metadata:` line, so it still meets its upstream
// copy after a local rename; kpt reads only that comment (its upstream-identifier annotation
// alone does not match). Documents that are not resources (plain YAML) are known by their place
// among the file's other such documents.

export const UPSTREAM_IDENTIFIER = 'internal.kpt.dev/upstream-identifier';

/** Annotations kpt and kyaml add for their own bookkeeping: never a user's change. */
const BOOKKEEPING = [UPSTREAM_IDENTIFIER, 'config.kubernetes.io/path', 'config.kubernetes.io/index', 'config.kubernetes.io/merge-source', 'internal.config.kubernetes.io/path', 'internal.config.kubernetes.io/index', 'internal.config.kubernetes.io/id'];

export interface ParsedDoc {
  id: string;
  file: string;
  doc: Document;
  /** Readable name for messages: kind/name, or the document's place in the file. */
  label: string;
  type?: ResourceType;
}

/** Files kpt reads as resources: YAML files, matched on the base name as kpt matches them. */
export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/.test(path.slice(path.lastIndexOf('/') + 1));
}

export function parseYaml(text: string, side: string, file: string): Document[] {
  const docs = parseAllDocuments(text) as Document[] | { errors: unknown[] };
  if (!Array.isArray(docs)) throw new MergeError('invalid-yaml', `${side} file ${file} is not valid YAML`);
  const bad = docs.find((d) => d.errors.length);
  if (bad) throw new MergeError('invalid-yaml', `${side} file ${file} is not valid YAML: ${bad.errors[0].message.split('\n')[0]}`);
  return docs.filter((d) => d.contents !== null || d.commentBefore || d.comment);
}

function str(n: Node | undefined): string {
  return isScalar(n) && n.value !== null && n.value !== undefined ? String(n.value) : '';
}

/** ns/name from a `# kpt-merge: ns/name` comment on the `metadata:` line itself. */
function mergeComment(root: Node, source: string): [string, string] | undefined {
  if (!isMap(root)) return undefined;
  const pair = (root.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'metadata');
  const end = isScalar(pair?.key) ? pair.key.range?.[1] : undefined;
  if (end === undefined) return undefined;
  const m = /^[ \t]*:[ \t]*#[ \t]*kpt-merge:[ \t]*([^/\s]*)\/(\S+)/.exec(source.slice(end));
  return m ? [m[1], m[2]] : undefined;
}

/** `ordinal` counts only the file's documents that are not resources, so adding a resource does not shift them. */
function identity(doc: Document, source: string, file: string, ordinal: number): Omit<ParsedDoc, 'doc' | 'file'> {
  const root = doc.contents as Node | null;
  const apiVersion = str(field(root ?? undefined, 'apiVersion'));
  const kind = str(field(root ?? undefined, 'kind'));
  const metadata = field(root ?? undefined, 'metadata');
  const name = str(field(metadata, 'name'));
  if (!isMap(root) || !apiVersion || !kind || !name) return { id: `${file}#${ordinal}`, label: `document ${ordinal + 1} (not a resource) in ${file}` };
  const parts = [groupOf(apiVersion), kind, str(field(metadata, 'namespace')), name];
  const commented = mergeComment(root, source);
  if (commented) [parts[2], parts[3]] = commented;
  return { id: `${file}|${parts.join('|')}`, label: `${kind} ${parts[2] ? `${parts[2]}/` : ''}${parts[3]} in ${file}`, type: { apiVersion, kind } };
}

/** The documents of one file; a resource twice in it is an error, as in kpt. */
export function docsOf(text: string, side: string, file: string): ParsedDoc[] {
  let anonymous = 0;
  const seen = new Set<string>();
  return parseYaml(text, side, file).map((doc) => {
    const parsed = { ...identity(doc, text, file, anonymous), file, doc };
    if (parsed.id === `${file}#${anonymous}`) anonymous++;
    if (seen.has(parsed.id)) throw new MergeError('duplicate-resource', `found duplicate ${side} resources: ${parsed.label} appears twice`);
    seen.add(parsed.id);
    return parsed;
  });
}

/** The documents of every YAML file of one side, by identity. */
export function* indexDocs(files: Record<string, string>, side: string): Steps<Map<string, ParsedDoc>> {
  const out = new Map<string, ParsedDoc>();
  for (const file of Object.keys(files).sort()) {
    if (!isYamlPath(file)) continue;
    yield;
    for (const parsed of docsOf(files[file], side, file)) out.set(parsed.id, parsed);
  }
  return out;
}

/** A resource's value without kpt's bookkeeping, to tell whether a user changed it. */
export function userContent(doc: Document): unknown {
  const value = doc.toJS() as unknown;
  if (!isRecord(value) || !isRecord(value.metadata) || !isRecord(value.metadata.annotations)) return value;
  const annotations = { ...value.metadata.annotations };
  for (const a of BOOKKEEPING) delete annotations[a];
  const metadata: Record<string, unknown> = { ...value.metadata, annotations };
  if (!Object.keys(annotations).length) delete metadata.annotations;
  return { ...value, metadata };
}

/** Whether the file writes sequences flush with their key (`key:\n- a`), which kpt preserves. */
function flushSequences(source: string): boolean {
  return /^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(source);
}

/**
 * The file's documents as text. yaml moves a comment written after `metadata:` onto the next
 * line; kpt's merge comment is put back where kpt writes (and reads) it.
 */
export function renderDocs(docs: Document[], source: string): string {
  const indentSeq = !flushSequences(source);
  const text = docs
    .map((d, i) => {
      if (i > 0 && d.directives) d.directives.docStart = true;
      return d.toString({ lineWidth: 0, indentSeq, flowCollectionPadding: false });
    })
    .join('');
  return mergeCommentOnMetadataLine(text);
}

/** yaml writes a comment of the `metadata:` line on the line below; kpt writes and reads it on that line. */
export function mergeCommentOnMetadataLine(text: string): string {
  return text.replace(/^( *)metadata:\n +# ?(kpt-merge: \S*)\n/gm, '$1metadata: # $2\n');
}
