import type { Document, Node } from 'yaml';
import { isRecord, jsonEqual } from '../util.ts';
import { MergeError } from './errors.ts';
import { mergePlainFiles } from './files.ts';
import { mergeKptfile } from './kptfile.ts';
import { mergeNodes } from './merge3.ts';
import { docsOf, indexDocs, isYamlPath, parseYaml, renderDocs, userContent, type ParsedDoc } from './resources.ts';
import type { TimeBudget } from '../time-budget.ts';
import { runNow, runSliced, type Steps } from '../yield.ts';

// Upgrading a downstream package to a new upstream revision, over whole packages of files, with
// the four strategies Porch offers: resource-merge (the default), fast-forward,
// force-delete-replace and copy-merge — each doing what kpt's updater of that name does.

export { MergeError } from './errors.ts';

/** Path inside the package → file content. */
export interface PackageFiles {
  [path: string]: string;
}

export interface MergeInput {
  /** The upstream revision the local package was made from (old upstream). */
  original: PackageFiles;
  /** The upstream revision to upgrade to (new upstream). */
  updated: PackageFiles;
  /** The downstream package as it is now. */
  local: PackageFiles;
  /**
   * The old upstream as cloning it wrote it (renamed Kptfile, merge keys, a deployment's package
   * context): fast-forward counts a local file equal to this as unchanged too.
   */
  cloned?: PackageFiles;
}

export type UpgradeStrategy = 'resource-merge' | 'fast-forward' | 'force-delete-replace' | 'copy-merge';

const KPTFILE = 'Kptfile';

function allPaths(...sides: PackageFiles[]): string[] {
  return [...new Set(sides.flatMap((s) => Object.keys(s)))].sort();
}

function yamlFiles(files: PackageFiles): PackageFiles {
  return Object.fromEntries(Object.entries(files).filter(([p]) => isYamlPath(p)));
}

/**
 * kpt's resource-merge. Resources are matched by file, group, kind, namespace and name; one
 * upstream added is added (in upstream's file), one upstream deleted is deleted unless the local
 * package changed it, one the local package added or deleted stays so; matched ones are merged
 * field by field (see merge3.ts — upstream wins a field both sides changed). The Kptfile and the
 * files that are not YAML are merged as kpt merges them (kptfile.ts, files.ts).
 */
export function mergePackage(input: MergeInput): PackageFiles {
  return runNow(mergeSteps(input));
}

function* mergeSteps({ original, updated, local }: MergeInput): Steps<PackageFiles> {
  const out: PackageFiles = {};
  const kptfile = mergeKptfile(original[KPTFILE], updated[KPTFILE], local[KPTFILE]);
  if (kptfile !== undefined) out[KPTFILE] = kptfile;
  yield;
  const plain = allPaths(original, updated, local).filter((p) => p !== KPTFILE && !isYamlPath(p));
  Object.assign(out, mergePlainFiles(plain, original, updated, local));
  Object.assign(out, yield* mergeResources(yamlFiles(original), yamlFiles(updated), yamlFiles(local)));
  return out;
}

function* mergeResources(original: PackageFiles, updated: PackageFiles, local: PackageFiles): Steps<PackageFiles> {
  const orig = yield* indexDocs(original, 'original upstream');
  const upd = yield* indexDocs(updated, 'new upstream');
  const mine = yield* indexDocs(local, 'local');
  const byFile = new Map<string, ParsedDoc[]>();
  for (const u of upd.values()) {
    const list = byFile.get(u.file);
    if (list) list.push(u);
    else byFile.set(u.file, [u]);
  }
  const added = (file: string) => (byFile.get(file) ?? []).filter((u) => !orig.has(u.id) && !mine.has(u.id));
  const out: PackageFiles = {};

  for (const file of Object.keys(local).sort()) {
    const kept: Document[] = [];
    let changed = false;
    for (const d of docsOf(local[file], 'local', file)) {
      yield;
      const o = orig.get(d.id);
      const u = upd.get(d.id);
      if (!u) {
        // Deleted upstream: gone, unless the local package changed it. Added locally: kept.
        if (o && jsonEqual(userContent(o.doc), userContent(d.doc))) changed = true;
        else kept.push(d.doc);
        continue;
      }
      const before = d.doc.toJS() as unknown;
      const next = mergeNodes(d.doc.contents as Node | undefined, o?.doc.contents as Node | undefined, u.doc.contents as Node | undefined, {
        where: d.label,
        type: d.type,
      });
      d.doc.contents = (next ?? null) as Document['contents'];
      if (!jsonEqual(before, d.doc.toJS())) changed = true;
      if (next !== undefined || d.doc.commentBefore) kept.push(d.doc);
    }
    for (const u of added(file)) {
      kept.push(u.doc.clone());
      changed = true;
    }
    if (!changed) out[file] = local[file];
    else if (kept.some((d) => d.contents !== null)) out[file] = renderDocs(kept, local[file]);
    // A file whose resources are all gone is gone too.
  }

  for (const file of Object.keys(updated).sort()) {
    if (file in local) continue;
    yield;
    const docs = docsOf(updated[file], 'new upstream', file);
    const add = added(file);
    if (!add.some((d) => d.doc.contents !== null)) continue;
    out[file] = add.length === docs.length ? updated[file] : renderDocs(add.map((d) => d.doc), updated[file]);
  }
  return out;
}

/** Same content for a user: equal text, or equal resources once kpt's bookkeeping is set aside. */
function sameFile(path: string, a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || !isYamlPath(path)) return false;
  try {
    const da = parseYaml(a, 'original upstream', path);
    const db = parseYaml(b, 'local', path);
    return da.length === db.length && da.every((d, i) => jsonEqual(userContent(d), userContent(db[i])));
  } catch {
    return false;
  }
}

/** The Kptfile as a user wrote it: without upstream, upstreamLock, the package's own name and kpt's bookkeeping. */
function kptfileContent(text: string): unknown {
  const [doc] = parseYaml(text, 'Kptfile', KPTFILE);
  const value = doc ? userContent(doc) : undefined;
  if (!isRecord(value)) return value;
  const { upstream: _upstream, upstreamLock: _lock, ...rest } = value;
  if (!isRecord(rest.metadata)) return rest;
  const { name: _name, ...metadata } = rest.metadata;
  if (Object.keys(metadata).length) return { ...rest, metadata };
  const { metadata: _metadata, ...withoutMetadata } = rest;
  return withoutMetadata;
}

function kptfileChanged(original: string | undefined, local: string | undefined): boolean {
  if (local === undefined) return original !== undefined;
  try {
    const mine = kptfileContent(local);
    // A package cloned from a directory without a Kptfile gets a minimal one: not a change.
    if (original === undefined) return !(isRecord(mine) && Object.keys(mine).every((k) => k === 'apiVersion' || k === 'kind'));
    return !jsonEqual(kptfileContent(original), mine);
  } catch {
    return true;
  }
}

/**
 * kpt's fast-forward: the update, but only for a package the local side has not changed (kpt's
 * own annotations and the Kptfile's upstream fields aside); otherwise a MergeError listing the
 * changed files.
 */
export function fastForwardPackage(input: MergeInput): PackageFiles {
  return runNow(fastForwardSteps(input));
}

function* fastForwardSteps(input: MergeInput): Steps<PackageFiles> {
  const { original, local, cloned } = input;
  const differs = (base: PackageFiles, p: string) => (p === KPTFILE ? kptfileChanged(base[p], local[p]) : !sameFile(p, base[p], local[p]));
  const changed: string[] = [];
  for (const p of allPaths(original, local)) {
    yield;
    if (differs(original, p) && (!cloned || differs(cloned, p))) changed.push(p);
  }
  if (changed.length)
    throw new MergeError('local-changes', `local package files have been modified: [${changed.join(' ')}]; fast-forward needs an unchanged package, use a different upgrade strategy`);
  return forceDeleteReplace(input);
}

/** kpt's force-delete-replace: upstream's files in place of every local one; the local Kptfile stays. */
export function forceDeleteReplace({ updated, local }: MergeInput): PackageFiles {
  const out: PackageFiles = { ...updated };
  if (local[KPTFILE] !== undefined) out[KPTFILE] = local[KPTFILE];
  return out;
}

/**
 * Porch's copy-merge: the Kptfile merged as in resource-merge, every upstream file copied over
 * the local one, files upstream deleted removed, files only the local package has kept.
 */
export function copyMerge({ original, updated, local }: MergeInput): PackageFiles {
  const out: PackageFiles = { ...local };
  for (const [path, text] of Object.entries(updated)) if (path !== KPTFILE) out[path] = text;
  for (const path of Object.keys(original)) if (path !== KPTFILE && !(path in updated)) delete out[path];
  const kptfile = mergeKptfile(original[KPTFILE], updated[KPTFILE], local[KPTFILE]);
  if (kptfile === undefined) delete out[KPTFILE];
  else out[KPTFILE] = kptfile;
  return out;
}

function* upgradeSteps(strategy: UpgradeStrategy | undefined, input: MergeInput): Steps<PackageFiles> {
  switch (strategy ?? 'resource-merge') {
    case 'fast-forward':
      return yield* fastForwardSteps(input);
    case 'force-delete-replace':
      return forceDeleteReplace(input);
    case 'copy-merge':
      return copyMerge(input);
    default:
      return yield* mergeSteps(input);
  }
}

/** The strategy by its Porch name; resource-merge when none is given. */
export function upgradePackage(strategy: UpgradeStrategy | undefined, input: MergeInput): PackageFiles {
  return runNow(upgradeSteps(strategy, input));
}

/**
 * upgradePackage for a request: other requests are served between resources, and the upgrade
 * fails with a 503 Status once it has used up `budget`.
 */
export function upgradePackageInSlices(strategy: UpgradeStrategy | undefined, input: MergeInput, budget?: TimeBudget): Promise<PackageFiles> {
  return runSliced(upgradeSteps(strategy, input), budget, `the ${strategy ?? 'resource-merge'} upgrade`);
}
