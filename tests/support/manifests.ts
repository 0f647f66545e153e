import YAML from 'yaml';

// Objects the end-to-end tests apply with kubectl, as YAML.

export interface RepositoryOptions {
  name: string;
  /** spec.git.repo: a URL or a local path. */
  repo: string;
  namespace?: string;
  /** spec.git.secretRef.name */
  secret?: string;
  directory?: string;
  description?: string;
  /** spec.sync */
  sync?: { schedule?: string; runOnceAt?: string };
  /** spec.deployment */
  deployment?: boolean;
}

export interface PackageRevisionOptions {
  repository: string;
  packageName: string;
  workspaceName: string;
  namespace?: string;
  labels?: Record<string, string>;
  tasks?: unknown[];
}

/** A PackageRevision (porch.kpt.dev/v1alpha1) to create: without tasks the server inits the package. */
export function packageRevisionYaml(o: PackageRevisionOptions): string {
  const metadata: Record<string, unknown> = { namespace: o.namespace ?? 'default' };
  if (o.labels) metadata.labels = o.labels;
  const spec: Record<string, unknown> = { packageName: o.packageName, workspaceName: o.workspaceName, repository: o.repository };
  if (o.tasks) spec.tasks = o.tasks;
  return YAML.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata, spec });
}

/** A git Repository (config.porch.kpt.dev/v1alpha1) on branch main. */
export function repositoryYaml(o: RepositoryOptions): string {
  const git: Record<string, unknown> = { repo: o.repo, branch: 'main' };
  if (o.directory !== undefined) git.directory = o.directory;
  if (o.secret) git.secretRef = { name: o.secret };
  const spec: Record<string, unknown> = {};
  if (o.description) spec.description = o.description;
  spec.type = 'git';
  if (o.deployment) spec.deployment = true;
  spec.git = git;
  if (o.sync) spec.sync = o.sync;
  return YAML.stringify({ apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name: o.name, namespace: o.namespace ?? 'default' }, spec });
}
