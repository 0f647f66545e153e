import * as v from 'valibot';
import { ConditionSchema } from './conditions.ts';
import { specStatusSchema, type KubeObject } from './meta.ts';

export type { Condition } from './conditions.ts';

export const CONFIG_GROUP = 'config.porch.kpt.dev';
export const CONFIG_VERSION = 'v1alpha1';

const SecretRefSchema = v.pipe(
  v.object({ name: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.description('Name of the Secret in the Repository namespace.')) }),
  v.description('Reference to a Secret holding credentials.'),
);

export const GitSpecSchema = v.pipe(
  v.object({
    repo: v.pipe(
      v.string(),
      v.minLength(1, 'repository address is required'),
      v.description('Address of the git repository: http(s):// URL, file:// URL or an absolute path to a bare repository.'),
    ),
    branch: v.optional(v.pipe(v.string(), v.description('Name of the branch containing the packages. Defaults to "main".'))),
    createBranch: v.optional(v.pipe(v.boolean(), v.description('Create the branch if it does not exist.'))),
    directory: v.optional(v.pipe(v.string(), v.description('Directory within the repository where packages are found. Defaults to the root.'))),
    secretRef: v.optional(SecretRefSchema),
    author: v.optional(v.pipe(v.string(), v.description('Author name used for commits made by the server.'))),
    email: v.optional(v.pipe(v.string(), v.description('Author email used for commits made by the server.'))),
  }),
  v.description('Git repository details.'),
);

export const OciSpecSchema = v.pipe(
  v.object({
    registry: v.pipe(v.string(), v.minLength(1, 'registry is required'), v.description('Registry is the address of the OCI registry.')),
    secretRef: v.optional(SecretRefSchema),
  }),
  v.description('OCI repository details.'),
);

export const RepositorySpecSchema = v.pipe(
  v.object({
    description: v.optional(v.pipe(v.string(), v.description('User-friendly description of the repository.'))),
    deployment: v.optional(v.pipe(v.boolean(), v.description('The repository is a deployment repository; final packages are deployment ready.'))),
    type: v.optional(v.pipe(v.picklist(['git', 'oci']), v.description('Type of the repository (git or oci).'))),
    content: v.optional(v.pipe(v.string(), v.description('Content stored in the repository (deprecated; always Package).'))),
    sync: v.optional(
      v.pipe(
        v.object({
          schedule: v.optional(v.pipe(v.string(), v.description('Cron expression for periodic repository sync.'))),
          runOnceAt: v.optional(v.pipe(v.string(), v.description('Time (RFC 3339) at which to run a one-off sync.'))),
        }),
        v.description('Repository synchronisation settings.'),
      ),
    ),
    git: v.optional(GitSpecSchema),
    oci: v.optional(OciSpecSchema),
    mutators: v.optional(v.array(v.looseObject({}))),
    validators: v.optional(v.array(v.looseObject({}))),
  }),
  v.description('RepositorySpec defines the desired state of Repository.'),
);
export type RepositorySpec = v.InferOutput<typeof RepositorySpecSchema>;

export const RepositoryStatusSchema = v.pipe(
  v.object({
    conditions: v.optional(v.array(ConditionSchema)),
    lastFullSyncTime: v.optional(v.string()),
    nextFullSyncTime: v.optional(v.string()),
    observedGeneration: v.optional(v.number()),
    observedRunOnceAt: v.optional(v.string()),
    packageCount: v.optional(v.number()),
    gitCommitHash: v.optional(v.string()),
  }),
  v.description('RepositoryStatus defines the observed state of Repository.'),
);
export type RepositoryStatus = v.InferOutput<typeof RepositoryStatusSchema>;

export const RepositorySchema = specStatusSchema('Repository registers a git repository (or OCI registry) holding kpt packages.', RepositorySpecSchema, RepositoryStatusSchema);

export interface Repository extends KubeObject {
  kind: 'Repository';
  spec: RepositorySpec;
  status?: RepositoryStatus;
}

/** Fields Porch treats as immutable once a Repository exists. */
export const REPOSITORY_IMMUTABLE_FIELDS: ReadonlyArray<readonly string[]> = [
  ['type'],
  ['git', 'repo'],
  ['git', 'branch'],
  ['git', 'directory'],
  ['oci', 'registry'],
];
