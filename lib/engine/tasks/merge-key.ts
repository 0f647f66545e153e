import YAML, { isMap, isScalar, Scalar, type Document, type Pair, type YAMLMap } from 'yaml';

// The identity kpt gives every resource of a package it fetched, so that a later update can match
// a resource with its upstream copy even after a local rename or namespace change (kpt's
// addmergecomment, which Porch runs after clone and upgrade):
//   metadata: # kpt-merge: <namespace>/<name>            (kept if already there)
//     annotations:
//       internal.kpt.dev/upstream-identifier: '<group>|<kind>|<namespace or default>|<name>'
// Files are YAML files and Kptfiles. Only files that change are rewritten; a file that is not
// valid YAML is left alone (best effort, as in Porch).

export const UPSTREAM_IDENTIFIER = 'internal.kpt.dev/upstream-identifier';
const PREFIX = 'kpt-merge:';
/** kyaml's namespace placeholders: resources that cannot have one are recorded as "~C". */
const NOT_A_NAMESPACE = '~X';

function isResourceFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'Kptfile' || /\.ya?ml$/.test(base);
}

function text(node: unknown): string {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : '';
}

/** The comment on the `metadata:` line itself, read from the source (yaml attaches it to the value). */
function lineComment(key: Scalar, source: string): string | undefined {
  const end = key.range?.[1];
  if (end === undefined) return undefined;
  const m = /^[ \t]*:[ \t]*#([^\n]*)/.exec(source.slice(end));
  return m ? m[1] : undefined;
}

/** namespace and name from `kpt-merge: ns/name`; undefined when the comment says something else. */
function commentIdentity(comment: string): [string, string] | undefined {
  const body = comment.replace(/^#/, '').trim();
  if (!body.startsWith(PREFIX)) return undefined;
  const rest = body.slice(PREFIX.length).trim();
  const at = rest.indexOf('/');
  return at < 0 ? undefined : [rest.slice(0, at), rest.slice(at + 1)];
}

/** Adds the comment and annotation to one document; whether it changed. */
function markDocument(doc: Document, source: string): boolean {
  const root = doc.contents;
  if (!isMap(root)) return false;
  const pair = (root.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'metadata');
  const meta = pair?.value;
  if (!pair || !isScalar(pair.key) || !isMap(meta)) return false;
  const name = text(meta.get('name', true));
  const namespace = text(meta.get('namespace', true));
  const labels = meta.get('labels', true);
  // kpt skips resources without identity at all: nothing to match them by.
  if (!name && !namespace && !(isMap(labels) && labels.items.length)) return false;

  const key = pair.key;
  // yaml keeps a comment after `metadata:` as the first line of the map's leading comment, and a
  // file another tool rewrote may have it there on a line of its own: either way it is the key.
  const before = (meta.commentBefore ?? '').split('\n');
  const inline = lineComment(key, source);
  const onKey = inline ?? (typeof key.comment === 'string' ? key.comment : undefined);
  const existing = [onKey, before.find((l) => l.trim().startsWith(PREFIX))].find((c) => c?.includes(PREFIX)) ?? onKey;
  let comment = existing ?? '';
  let changed = false;
  if (!comment.includes(PREFIX)) {
    comment = ` ${PREFIX} ${namespace}/${name}`;
    changed = true;
  }
  // One merge key per resource, on the `metadata:` line where kpt reads it: the first line of the
  // leading comment when it is the line comment itself, and every other merge key there (copies an
  // earlier rewrite left), go.
  const kept = before.filter((l, i) => !(i === 0 && l === existing) && !l.trim().startsWith(PREFIX));
  if (kept.length !== before.length) {
    meta.commentBefore = kept.join('\n') || undefined;
    // Dropping yaml's copy of the line comment changes nothing in the text; anything more does.
    if (before.length - kept.length > (inline !== undefined && before[0] === inline ? 1 : 0)) changed = true;
  }
  key.comment = comment;

  const fromComment = commentIdentity(comment);
  if (!fromComment) return changed;
  let [ns, id] = fromComment;
  if (!ns) ns = 'default';
  else if (namespace === NOT_A_NAMESPACE) ns = '~C';
  const apiVersion = text(root.get('apiVersion', true));
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const value = `${group}|${text(root.get('kind', true))}|${ns}|${id}`;
  const annotations = meta.get('annotations', true);
  if (annotations !== undefined && !isMap(annotations)) return changed;
  if (text((annotations as YAMLMap | undefined)?.get(UPSTREAM_IDENTIFIER, true)) === value) return changed;
  // kyaml writes annotation values single-quoted.
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_SINGLE;
  doc.setIn(['metadata', 'annotations', UPSTREAM_IDENTIFIER], scalar);
  return true;
}

/** Whether the text writes sequences flush with their key (`key:\n- a`). */
function flushSequences(source: string): boolean {
  return /^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(source);
}

function markFile(source: string): string {
  const docs = YAML.parseAllDocuments(source) as Document[];
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return source;
  let changed = false;
  for (const d of docs) {
    try {
      if (markDocument(d, source)) changed = true;
    } catch {
      // an odd document (anchors, complex keys) stays as it was
    }
  }
  if (!changed) return source;
  return docs
    .map((d, i) => {
      if (i > 0 && d.directives) d.directives.docStart = true;
      // Sequence indentation is kept per resource, as kpt keeps it.
      const own = d.range ? source.slice(d.range[0], d.range[2]) : source;
      return d.toString({ lineWidth: 0, indentSeq: !flushSequences(own), flowCollectionPadding: false });
    })
    .join('');
}

/** The package's files with every resource carrying its merge key. */
export function ensureMergeKeys(files: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, source] of Object.entries(files)) out[path] = isResourceFile(path) ? markFile(source) : source;
  return out;
}

