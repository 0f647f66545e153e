import * as v from 'valibot';
import { KptConditionSchema } from './conditions.ts';
import { objectSchema, specStatusSchema, type KindObject } from './meta.ts';

export const PORCH_GROUP = 'porch.kpt.dev';
export const PORCH_VERSION = 'v1alpha1';
export const PORCH_API_VERSION = `${PORCH_GROUP}/${PORCH_VERSION}`;

export const LIFECYCLES = ['Draft', 'Proposed', 'Published', 'DeletionProposed'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

export const LATEST_REVISION_LABEL = 'kpt.dev/latest-revision';
/** Set by the server on each PackageRev: the Repository it belongs to, so one repository's are found by selector. */
export const REPOSITORY_LABEL = 'internal.porch.kpt.dev/repository';

const NameRef = v.object({ name: v.string() });

const GitPackageSchema = v.object({
  repo: v.string(),
  ref: v.string(),
  directory: v.string(),
  secretRef: v.optional(NameRef),
});

const UpstreamPackageSchema = v.pipe(
  v.object({
    type: v.optional(v.picklist(['git', 'oci'])),
    git: v.optional(GitPackageSchema),
    oci: v.optional(v.object({ image: v.string() })),
    upstreamRef: v.optional(v.pipe(NameRef, v.description('Name of an upstream PackageRevision.'))),
  }),
  v.description('Where the package comes from: a PackageRevision, a git repository or an OCI image.'),
);

export const TaskSchema = v.pipe(
  v.object({
    type: v.pipe(v.picklist(['init', 'clone', 'edit', 'upgrade', 'render', 'push', 'patch', 'eval', 'update']), v.description('Type of the task.')),
    init: v.optional(
      v.object({
        subpackage: v.optional(v.string()),
        description: v.optional(v.string()),
        keywords: v.optional(v.array(v.string())),
        site: v.optional(v.string()),
      }),
    ),
    clone: v.optional(
      v.object({
        upstreamRef: v.optional(UpstreamPackageSchema),
        strategy: v.optional(v.string()),
      }),
    ),
    edit: v.optional(v.object({ sourceRef: v.optional(NameRef) })),
    upgrade: v.optional(
      v.object({
        oldUpstreamRef: v.optional(NameRef),
        newUpstreamRef: v.optional(NameRef),
        localPackageRevisionRef: v.optional(NameRef),
        strategy: v.optional(v.picklist(['resource-merge', 'fast-forward', 'force-delete-replace', 'copy-merge'])),
      }),
    ),
  }),
  v.description('A task that produced (part of) the package revision.'),
);
export type Task = v.InferOutput<typeof TaskSchema>;

const LockSchema = v.object({
  type: v.optional(v.string()),
  git: v.optional(v.object({ repo: v.optional(v.string()), directory: v.optional(v.string()), ref: v.optional(v.string()), commit: v.optional(v.string()) })),
});

export const PackageRevisionSpecSchema = v.pipe(
  v.object({
    packageName: v.optional(v.pipe(v.string(), v.description('Name of the package; may contain "/" for nested paths.'))),
    repository: v.optional(v.pipe(v.string(), v.description('Name of the Repository holding the package.'))),
    workspaceName: v.optional(v.pipe(v.string(), v.description('Identifies the workspace (draft) of the package.'))),
    revision: v.optional(v.pipe(v.number(), v.integer(), v.description('Revision number; 0 for drafts, -1 for the branch placeholder.'))),
    parent: v.optional(NameRef),
    lifecycle: v.optional(v.pipe(v.picklist(LIFECYCLES), v.description('Draft, Proposed, Published or DeletionProposed.'))),
    tasks: v.optional(v.nullable(v.array(TaskSchema))),
    readinessGates: v.optional(v.nullable(v.array(v.object({ conditionType: v.string() })))),
    packageMetadata: v.optional(
      v.nullable(
        v.object({
          labels: v.optional(v.nullable(v.record(v.string(), v.string()))),
          annotations: v.optional(v.nullable(v.record(v.string(), v.string()))),
        }),
      ),
    ),
  }),
  v.description('PackageRevisionSpec defines the desired state of PackageRevision.'),
);
export type PackageRevisionSpec = v.InferOutput<typeof PackageRevisionSpecSchema>;

export const PackageRevisionStatusSchema = v.pipe(
  v.object({
    upstreamLock: v.optional(LockSchema),
    selfLock: v.optional(LockSchema),
    publishedBy: v.optional(v.string()),
    publishTimestamp: v.optional(v.string()),
    deployment: v.optional(v.boolean()),
    conditions: v.optional(v.nullable(v.array(KptConditionSchema))),
  }),
  v.description('PackageRevisionStatus defines the observed state of PackageRevision.'),
);
export type PackageRevisionStatus = v.InferOutput<typeof PackageRevisionStatusSchema>;

export const PackageRevisionSchema = specStatusSchema('PackageRevision is one revision of a kpt package in a repository.', PackageRevisionSpecSchema, PackageRevisionStatusSchema);
export type PackageRevision = KindObject<'PackageRevision', PackageRevisionSpec, PackageRevisionStatus>;

export const PackageRevisionResourcesSchema = objectSchema('PackageRevisionResources holds the files of a package revision.', {
  spec: v.optional(
    v.object({
      packageName: v.optional(v.string()),
      workspaceName: v.optional(v.string()),
      revision: v.optional(v.number()),
      repository: v.optional(v.string()),
      resources: v.optional(v.nullable(v.pipe(v.record(v.string(), v.string()), v.description('File name to file content.')))),
    }),
  ),
  status: v.optional(
    v.object({
      renderStatus: v.optional(
        v.object({
          result: v.optional(v.looseObject({})),
          error: v.optional(v.string()),
        }),
      ),
    }),
  ),
});

export type PackageRevisionResources = KindObject<
  'PackageRevisionResources',
  { packageName: string; workspaceName: string; revision?: number; repository: string; resources: Record<string, string> },
  { renderStatus?: { result?: Record<string, unknown>; error?: string } }
>;

export const PorchPackageSchema = objectSchema('PorchPackage is a package and the latest of its published revisions.', {
  spec: v.optional(v.object({ packageName: v.optional(v.string()), repository: v.optional(v.string()) })),
  status: v.optional(v.object({ latestRevision: v.optional(v.number()) })),
});

export type PorchPackage = KindObject<'PorchPackage', { packageName: string; repository: string }, { latestRevision?: number }>;
