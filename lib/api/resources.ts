import type * as v from 'valibot';
import { NamespaceSchema, SecretSchema } from './core.ts';
import { preservingSchema } from './generic.ts';
import type { KubeObject } from './meta.ts';
import { PackageRevisionResourcesSchema, PackageRevisionSchema, PORCH_GROUP, PORCH_VERSION, PorchPackageSchema, type PackageRevision, type PackageRevisionResources, type PorchPackage } from './porch.ts';
import { CONFIG_GROUP, CONFIG_VERSION, RepositorySchema, type Repository } from './repository.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  description?: string;
  priority?: number;
  /** JSONPath as CRDs declare it, for manifests; `cell` is what the server evaluates. */
  jsonPath?: string;
  cell: (obj: KubeObject) => string | number | boolean | null;
}

export interface Subresource {
  name: string;
  verbs: Verb[];
}

export interface ResourceDescriptor<T extends KubeObject = KubeObject> {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: Subresource[];
  // The schema's input/output types differ per resource; callers only validate and describe with it.
  schema: v.GenericSchema<unknown, unknown>;
  printerColumns: PrinterColumn[];
  /**
   * Objects served straight from the store, computed by the engine from git, or answered by the
   * gateway from the request's own identity (the review APIs; nothing is stored).
   */
  backend: 'store' | 'engine' | 'gateway';
  /**
   * Never set: it carries the type of the resource's objects, so the store's verbs answer
   * `store.get(REPOSITORIES, …)` as a Repository without a cast.
   */
  readonly objectType?: T;
}

export function apiVersionOf(r: Pick<ResourceDescriptor, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function path(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function str(obj: unknown, ...keys: string[]): string {
  const val = path(obj, ...keys);
  return val === undefined || val === null ? '' : String(val);
}

function conditionStatus(obj: KubeObject, type: string): string {
  const conds = path(obj, 'status', 'conditions');
  if (!Array.isArray(conds)) return '';
  const c = conds.find((x) => (x as { type?: string }).type === type) as { status?: string } | undefined;
  return c?.status ?? '';
}

const ALL: Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const CRUD: Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const NAMESPACES: ResourceDescriptor = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  schema: NamespaceSchema,
  printerColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase', cell: (o) => str(o, 'status', 'phase') }],
  backend: 'store',
};

export const SECRETS: ResourceDescriptor = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ALL,
  subresources: [],
  schema: SecretSchema,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.type', cell: (o) => str(o, 'type') },
    { name: 'Data', type: 'string', cell: (o) => Object.keys((path(o, 'data') as object | undefined) ?? {}).length },
  ],
  backend: 'store',
};

export const REPOSITORIES: ResourceDescriptor<Repository> = {
  group: CONFIG_GROUP,
  version: CONFIG_VERSION,
  plural: 'repositories',
  singular: 'repository',
  kind: 'Repository',
  listKind: 'RepositoryList',
  namespaced: true,
  shortNames: ['repo'],
  categories: ['porch'],
  verbs: ALL,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  schema: RepositorySchema,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type', cell: (o) => str(o, 'spec', 'type') },
    { name: 'Content', type: 'string', jsonPath: '.spec.content', cell: (o) => str(o, 'spec', 'content') },
    { name: 'Sync Schedule', type: 'string', jsonPath: '.spec.sync.schedule', cell: (o) => str(o, 'spec', 'sync', 'schedule') },
    { name: 'Deployment', type: 'boolean', jsonPath: '.spec.deployment', cell: (o) => (path(o, 'spec', 'deployment') === true ? 'true' : '') },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', cell: (o) => conditionStatus(o, 'Ready') },
    {
      name: 'Address',
      type: 'string',
      // Porch's path; Kubernetes JSONPath takes unions of single-quoted names only.
      jsonPath: ".spec['git','oci']['repo','registry']",
      cell: (o) => str(o, 'spec', 'git', 'repo') || str(o, 'spec', 'oci', 'registry'),
    },
    { name: 'Branch', type: 'string', jsonPath: '.spec.git.branch', cell: (o) => str(o, 'spec', 'git', 'branch') },
  ],
  backend: 'store',
};

/**
 * A config.porch.kpt.dev kind kept in the store as written, with a status subresource; its name follows
 * the regular pattern (lower-case singular, plural with "s").
 */
function storedConfigKind(kind: string, categories: string[], description: string): ResourceDescriptor {
  const singular = kind.toLowerCase();
  return {
    group: CONFIG_GROUP,
    version: CONFIG_VERSION,
    plural: `${singular}s`,
    singular,
    kind,
    listKind: `${kind}List`,
    namespaced: true,
    shortNames: [],
    categories,
    verbs: ALL,
    subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
    schema: preservingSchema(description),
    printerColumns: [],
    backend: 'store',
  };
}

export const PACKAGEREVS = storedConfigKind('PackageRev', [], 'PackageRev carries the metadata of a package revision that git cannot hold.');
export const PACKAGEVARIANTS = storedConfigKind('PackageVariant', ['porch'], 'PackageVariant keeps a downstream package in sync with an upstream one.');
export const PACKAGEVARIANTSETS = storedConfigKind('PackageVariantSet', ['porch'], 'PackageVariantSet creates PackageVariants from a template.');

/** Columns the porch.kpt.dev kinds share: each shows the package it belongs to in the same words. */
const PACKAGE_COLUMNS = {
  package: { name: 'Package', type: 'string', cell: (o) => str(o, 'spec', 'packageName') },
  workspaceName: { name: 'WorkspaceName', type: 'string', cell: (o) => str(o, 'spec', 'workspaceName') },
  revision: { name: 'Revision', type: 'integer', cell: (o) => Number(path(o, 'spec', 'revision') ?? 0) },
  repository: { name: 'Repository', type: 'string', cell: (o) => str(o, 'spec', 'repository') },
} satisfies Record<string, PrinterColumn>;

type EngineKind<T extends KubeObject> = Pick<ResourceDescriptor<T>, 'plural' | 'singular' | 'kind' | 'verbs' | 'subresources' | 'schema' | 'printerColumns'>;

/** A porch.kpt.dev kind: namespaced, computed by the engine from git, without short names or categories. */
function engineKind<T extends KubeObject>(d: EngineKind<T>): ResourceDescriptor<T> {
  return {
    group: PORCH_GROUP,
    version: PORCH_VERSION,
    plural: d.plural,
    singular: d.singular,
    kind: d.kind,
    listKind: `${d.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: d.verbs,
    subresources: d.subresources,
    schema: d.schema,
    printerColumns: d.printerColumns,
    backend: 'engine',
  };
}

export const PACKAGEREVISIONS = engineKind<PackageRevision>({
  plural: 'packagerevisions',
  singular: 'packagerevision',
  kind: 'PackageRevision',
  verbs: CRUD,
  subresources: [{ name: 'approval', verbs: ['get', 'update', 'patch'] }],
  schema: PackageRevisionSchema,
  printerColumns: [
    PACKAGE_COLUMNS.package,
    PACKAGE_COLUMNS.workspaceName,
    PACKAGE_COLUMNS.revision,
    { name: 'Latest', type: 'boolean', cell: (o) => str(o, 'metadata', 'labels', 'kpt.dev/latest-revision') === 'true' },
    { name: 'Lifecycle', type: 'string', cell: (o) => str(o, 'spec', 'lifecycle') },
    PACKAGE_COLUMNS.repository,
  ],
});

export const PACKAGEREVISIONRESOURCES = engineKind<PackageRevisionResources>({
  plural: 'packagerevisionresources',
  singular: 'packagerevisionresources',
  kind: 'PackageRevisionResources',
  verbs: ['get', 'list', 'watch', 'update', 'patch'],
  subresources: [],
  schema: PackageRevisionResourcesSchema,
  printerColumns: [
    PACKAGE_COLUMNS.package,
    PACKAGE_COLUMNS.workspaceName,
    PACKAGE_COLUMNS.revision,
    PACKAGE_COLUMNS.repository,
    { name: 'Files', type: 'integer', cell: (o) => Object.keys((path(o, 'spec', 'resources') as object | undefined) ?? {}).length },
  ],
});

export const PACKAGES = engineKind<PorchPackage>({
  plural: 'packages',
  singular: 'package',
  kind: 'PorchPackage',
  verbs: ['get', 'list', 'watch'],
  subresources: [],
  schema: PorchPackageSchema,
  printerColumns: [
    PACKAGE_COLUMNS.package,
    PACKAGE_COLUMNS.repository,
    { name: 'Latest Revision', type: 'integer', cell: (o) => Number(path(o, 'status', 'latestRevision') ?? 0) },
  ],
});

/** Every resource this server knows, in discovery order. */
export const RESOURCES: ResourceDescriptor[] = [NAMESPACES, SECRETS, REPOSITORIES, PACKAGEREVS, PACKAGEVARIANTS, PACKAGEVARIANTSETS, PACKAGEREVISIONS, PACKAGEREVISIONRESOURCES, PACKAGES];

export function findResource(group: string, version: string, plural: string): ResourceDescriptor | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}
