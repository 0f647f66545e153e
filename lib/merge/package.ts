import YAML, { type Document } from 'yaml';
import { jsonEqual } from '../util.ts';
import { mergeDocument } from './merge3.ts';
import { indexResources, isResourceFile, parseDocs, renderDocs, resourceId } from './resources.ts';

// Upgrading a downstream package to a new upstream revision: the strategies Porch offers
// (resource-merge, fast-forward, force-delete-replace, copy-merge), over whole packages of files.

export interface PackageFiles {
  [path: string]: string;
}

export interface MergeInput {
  /** The upstream revision the local package was made from. */
  original: PackageFiles;
  /** The upstream revision to upgrade to. */
  updated: PackageFiles;
  /** The downstream package as it is now. */
  local: PackageFiles;
}

export class MergeError extends Error {}

function resourceFiles(files: PackageFiles): Set<string> {
  return new Set(Object.keys(files).filter((p) => p !== 'Kptfile' && isResourceFile(p, files[p])));
}

/**
 * kpt's resource-merge: resources (matched by group, kind, namespace and name, in whatever file they
 * are) merged field by field; resources upstream added are added (in upstream's file), ones upstream
 * deleted are deleted; the Kptfile is merged like a resource; other files change only where the
 * local copy did not.
 */
export function mergePackage({ original, updated, local }: MergeInput): PackageFiles {
  const kinds = new Set([...resourceFiles(original), ...resourceFiles(updated), ...resourceFiles(local)]);
  const orig = indexResources(pick(original, kinds));
  const upd = indexResources(pick(updated, kinds));
  const out: PackageFiles = {};

  // Local resource files, merged document by document.
  const localDocs = new Map<string, Document[]>();
  for (const file of Object.keys(local)) {
    if (!kinds.has(file)) continue;
    const docs = parseDocs(local[file]);
    if (!docs) {
      // Broken YAML locally: merged as a plain file, so it is never lost.
      const merged = mergeFile(original[file], updated[file], local[file]);
      if (merged !== undefined) out[file] = merged;
      continue;
    }
    const kept: Document[] = [];
    let changed = false;
    for (const doc of docs) {
      const id = resourceId(doc.toJS());
      if (!id) {
        kept.push(doc);
        continue;
      }
      const o = orig.get(id);
      const u = upd.get(id);
      if (o && !u) {
        changed = true; // deleted upstream
        continue;
      }
      if (u && !jsonEqual(o?.value, u.value)) {
        mergeDocument(doc, o?.value, u.value);
        changed = true;
      }
      kept.push(doc);
    }
    localDocs.set(file, kept);
    if (!changed) out[file] = local[file];
    else if (kept.some((d) => d.contents !== null)) out[file] = renderDocs(kept);
  }

  // Resources upstream added that the local package has nowhere: into upstream's file.
  const localIds = new Set([...localDocs.values()].flat().map((d) => resourceId(d.toJS())).filter((x): x is string => x !== undefined));
  for (const u of upd.values()) {
    if (orig.has(u.id) || localIds.has(u.id)) continue;
    const doc = parseDocs(YAML.stringify(u.value))![0];
    const docs = localDocs.get(u.file) ?? [];
    docs.push(doc);
    localDocs.set(u.file, docs);
    out[u.file] = renderDocs(docs.filter((d) => d.contents !== null));
  }

  // Everything else, file by file.
  const rest = new Set([...Object.keys(original), ...Object.keys(updated), ...Object.keys(local)].filter((p) => !kinds.has(p)));
  for (const file of rest) {
    if (file === 'Kptfile') {
      const merged = mergeKptfile(original.Kptfile, updated.Kptfile, local.Kptfile);
      if (merged !== undefined) out.Kptfile = merged;
      continue;
    }
    const merged = mergeFile(original[file], updated[file], local[file]);
    if (merged !== undefined) out[file] = merged;
  }
  return out;
}

function pick(files: PackageFiles, keep: Set<string>): PackageFiles {
  return Object.fromEntries(Object.entries(files).filter(([p]) => keep.has(p)));
}

/** A plain file: upstream's change applies where the local copy is as the original was. */
function mergeFile(o: string | undefined, u: string | undefined, l: string | undefined): string | undefined {
  if (o === u) return l;
  if (l === o) return u;
  if (l === undefined && o !== undefined) return undefined; // deleted locally: stays deleted
  return l;
}

/** The Kptfile is one resource whatever its name (kpt renames it on get): merged field by field. */
function mergeKptfile(o: string | undefined, u: string | undefined, l: string | undefined): string | undefined {
  if (l === undefined) return u;
  if (u === undefined || o === u) return l;
  const docs = parseDocs(l);
  const ov = o === undefined ? undefined : parseDocs(o)?.[0]?.toJS();
  const uv = parseDocs(u)?.[0]?.toJS() as Record<string, unknown> | undefined;
  if (!docs || docs.length !== 1 || !uv) return mergeFile(o, u, l);
  // The local package keeps its own name.
  const localName = (docs[0].toJS() as { metadata?: { name?: string } }).metadata?.name;
  const meta = { ...((uv.metadata as Record<string, unknown> | undefined) ?? {}), ...(localName ? { name: localName } : {}) };
  const origMeta = (ov as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  const oFixed = ov && localName ? { ...(ov as Record<string, unknown>), metadata: { ...(origMeta ?? {}), name: localName } } : ov;
  mergeDocument(docs[0], oFixed, { ...uv, metadata: meta });
  return docs[0].toString();
}

/** fast-forward: only when the local package is exactly the original; then it becomes the update. */
export function fastForwardPackage({ original, updated, local }: MergeInput): PackageFiles {
  const changed = [...new Set([...Object.keys(original), ...Object.keys(local)])].filter((p) => p !== 'Kptfile' && original[p] !== local[p]);
  if (changed.length)
    throw new MergeError(`the local package has changes (${changed.sort().join(', ')}); fast-forward needs an unchanged package, use resource-merge`);
  return { ...updated, ...(local.Kptfile !== undefined ? { Kptfile: mergeKptfile(original.Kptfile, updated.Kptfile, local.Kptfile) ?? local.Kptfile } : {}) };
}

/** force-delete-replace: the update, whatever the local package holds (its Kptfile name kept). */
export function forceDeleteReplace({ original, updated, local }: MergeInput): PackageFiles {
  return { ...updated, ...(local.Kptfile !== undefined ? { Kptfile: mergeKptfile(original.Kptfile, updated.Kptfile, local.Kptfile) ?? local.Kptfile } : {}) };
}

/** copy-merge: upstream's files copied over the local ones; local-only files stay. */
export function copyMerge({ original, updated, local }: MergeInput): PackageFiles {
  const out: PackageFiles = { ...local, ...updated };
  if (local.Kptfile !== undefined) out.Kptfile = mergeKptfile(original.Kptfile, updated.Kptfile, local.Kptfile) ?? local.Kptfile;
  return out;
}

export type UpgradeStrategy = 'resource-merge' | 'fast-forward' | 'force-delete-replace' | 'copy-merge';

export function upgradePackage(strategy: UpgradeStrategy, input: MergeInput): PackageFiles {
  switch (strategy) {
    case 'fast-forward':
      return fastForwardPackage(input);
    case 'force-delete-replace':
      return forceDeleteReplace(input);
    case 'copy-merge':
      return copyMerge(input);
    default:
      return mergePackage(input);
  }
}
