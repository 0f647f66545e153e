import YAML, { isMap } from 'yaml';
import { mergeCommentOnMetadataLine } from '../merge/resources.ts';
import { isRecord } from '../util.ts';

export interface KptfileInfo {
  upstream?: Record<string, unknown>;
  upstreamLock?: Record<string, unknown>;
  readinessGates?: { conditionType: string }[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Pulls out of a Kptfile what a PackageRevision shows; a broken Kptfile yields nothing, not an error. */
export function readKptfile(text: string): KptfileInfo {
  if (!text) return {};
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return {};
  }
  return isRecord(doc) ? kptfileInfoOf(doc) : {};
}

/** What a PackageRevision shows of a parsed Kptfile document. */
export function kptfileInfoOf(doc: Record<string, unknown>): KptfileInfo {
  const info: KptfileInfo = {};
  if (isRecord(doc.upstream)) info.upstream = doc.upstream;
  if (isRecord(doc.upstreamLock)) info.upstreamLock = doc.upstreamLock;
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  if (isRecord(meta.labels)) info.labels = meta.labels as Record<string, string>;
  if (isRecord(meta.annotations)) info.annotations = meta.annotations as Record<string, string>;
  const gates = isRecord(doc.info) && Array.isArray(doc.info.readinessGates) ? doc.info.readinessGates : undefined;
  if (gates) info.readinessGates = gates.filter(isRecord).map((g) => ({ conditionType: String(g.conditionType ?? '') }));
  const conds = isRecord(doc.status) && Array.isArray(doc.status.conditions) ? doc.status.conditions : undefined;
  if (conds)
    info.conditions = conds.filter(isRecord).map((c) => ({
      type: String(c.type ?? ''),
      status: String(c.status ?? ''),
      ...(c.reason !== undefined ? { reason: String(c.reason) } : {}),
      ...(c.message !== undefined ? { message: String(c.message) } : {}),
    }));
  return info;
}

/** Why a Kptfile cannot be accepted, or undefined when it is a valid kpt.dev/v1 Kptfile. */
export function kptfileProblem(text: string | undefined): string | undefined {
  if (text === undefined) return 'the package must contain a Kptfile';
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return `the Kptfile is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  if (!isRecord(doc)) return 'the Kptfile must be a YAML object';
  if (doc.apiVersion !== 'kpt.dev/v1') return `the Kptfile must have apiVersion kpt.dev/v1 (got ${JSON.stringify(doc.apiVersion)})`;
  if (doc.kind !== 'Kptfile') return `the Kptfile must have kind Kptfile (got ${JSON.stringify(doc.kind)})`;
  if (!isRecord(doc.metadata) || typeof doc.metadata.name !== 'string' || !doc.metadata.name) return 'the Kptfile must have metadata.name';
  return undefined;
}

export interface InitOptions {
  description?: string;
  keywords?: string[];
  site?: string;
}

/** The files `kpt pkg init` writes for a new package. */
export function initPackage(name: string, opts: InitOptions): Record<string, string> {
  const info: Record<string, unknown> = {};
  if (opts.site) info.site = opts.site;
  if (opts.description) info.description = opts.description;
  if (opts.keywords?.length) info.keywords = opts.keywords;
  const kptfile: Record<string, unknown> = {
    apiVersion: 'kpt.dev/v1',
    kind: 'Kptfile',
    metadata: { name, annotations: { 'config.kubernetes.io/local-config': 'true' } },
  };
  if (Object.keys(info).length) kptfile.info = info;
  const readme = [
    `# ${name}`,
    '',
    '## Description',
    opts.description ?? `${name} description`,
    '',
    '## Usage',
    '',
    '### Fetch the package',
    `\`kpt pkg get REPO_URI[.git]/PKG_PATH[@VERSION] ${name}\``,
    'Details: https://kpt.dev/reference/cli/pkg/get/',
    '',
    '### View package content',
    `\`kpt pkg tree ${name}\``,
    'Details: https://kpt.dev/reference/cli/pkg/tree/',
    '',
    '### Apply the package',
    '```',
    `kpt live init ${name}`,
    `kpt live apply ${name} --reconcile-timeout=2m --output=table`,
    '```',
    'Details: https://kpt.dev/reference/cli/live/',
    '',
  ].join('\n');
  const context = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kptfile.kpt.dev', annotations: { 'config.kubernetes.io/local-config': 'true' } },
    // kpt pkg init writes this placeholder; functions that need the real name read it from the Kptfile.
    data: { name: 'example' },
  };
  return {
    Kptfile: YAML.stringify(kptfile),
    'README.md': readme,
    'package-context.yaml': YAML.stringify(context),
  };
}

export interface PackageMetadata {
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
}

/**
 * spec.packageMetadata into a parsed Kptfile, as Porch's task handler writes it: at create the
 * given keys are added to what the package has (`merge`); on update of a Draft each given map
 * replaces the Kptfile's. A map not given (or null) leaves the Kptfile's alone. Whether it changed.
 */
function applyPackageMetadata(doc: YAML.Document, pm: PackageMetadata, mode: 'merge' | 'replace'): boolean {
  let changed = false;
  for (const which of ['labels', 'annotations'] as const) {
    const wanted = pm[which];
    if (!wanted) continue;
    const path = ['metadata', which];
    const cur = doc.getIn(path, true);
    const have: Record<string, unknown> = isMap(cur) ? (cur.toJSON() as Record<string, unknown>) : {};
    if (mode === 'replace')
      for (const k of Object.keys(have))
        if (!Object.hasOwn(wanted, k)) {
          doc.deleteIn([...path, k]);
          changed = true;
        }
    for (const [k, v] of Object.entries(wanted))
      if (have[k] !== v) {
        doc.setIn([...path, k], v);
        changed = true;
      }
    const left = doc.getIn(path, true);
    if (isMap(left) && left.items.length === 0) doc.deleteIn(path);
  }
  return changed;
}

/** A Kptfile this server cannot edit (not YAML, or fields of the wrong shape). */
export class KptfileError extends Error {
  override readonly name = 'KptfileError';
}

/** The Kptfile as a document to edit; a KptfileError when it is not a YAML mapping. */
export function parseForEdit(text: string): YAML.Document {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) throw new KptfileError(`the Kptfile is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  if (!isMap(doc.contents)) throw new KptfileError('the Kptfile is not a YAML mapping');
  return doc;
}

/** Runs an edit of a parsed Kptfile, turning yaml's refusals into KptfileErrors. */
export function edited<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // yaml refuses to descend into a scalar where a mapping is expected (`metadata: x`).
    if (err instanceof KptfileError) throw err;
    throw new KptfileError(`the Kptfile cannot be edited: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The Kptfile of a new package revision with the create request's packageMetadata added. */
export function withPackageMetadata(text: string, pm: PackageMetadata | null | undefined): string {
  if (!pm || (!pm.labels && !pm.annotations)) return text;
  const doc = parseForEdit(text);
  return edited(() => (applyPackageMetadata(doc, pm, 'merge') ? mergeCommentOnMetadataLine(doc.toString({ lineWidth: 0 })) : text));
}

/**
 * Write what a Draft's PackageRevision says into its Kptfile (packageMetadata, readinessGates,
 * conditions), keeping everything else of the file as it was.
 */
export function updateKptfile(
  text: string,
  changes: {
    packageMetadata?: PackageMetadata | null;
    readinessGates?: { conditionType: string }[] | null;
    conditions?: { type: string; status: string; reason?: string; message?: string }[] | null;
  },
): string {
  const doc = parseForEdit(text);
  return edited(() => {
    if (changes.packageMetadata) applyPackageMetadata(doc, changes.packageMetadata, 'replace');
    if (changes.readinessGates !== undefined) {
      if (changes.readinessGates && changes.readinessGates.length) doc.setIn(['info', 'readinessGates'], changes.readinessGates);
      else if (doc.hasIn(['info', 'readinessGates'])) doc.deleteIn(['info', 'readinessGates']);
    }
    if (changes.conditions !== undefined) {
      if (changes.conditions && changes.conditions.length) doc.setIn(['status', 'conditions'], changes.conditions);
      else if (doc.hasIn(['status', 'conditions'])) doc.deleteIn(['status', 'conditions']);
    }
    return mergeCommentOnMetadataLine(doc.toString({ lineWidth: 0 }));
  });
}
