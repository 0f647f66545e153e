import { join } from 'node:path';
import type { Task } from '../../api/porch.ts';
import type { Repository } from '../../api/repository.ts';
import type { RepositoryCache } from '../../cache/repository-cache.ts';
import { errors, StatusError, type StatusCause } from '../../errors.ts';
import { GitUnavailableError } from '../../git/types.ts';
import { readUpstreamPackage, UpstreamNotFoundError } from '../../git/upstream.ts';
import { CredentialError, resolveGitAuth } from '../credentials.ts';
import type { Engine } from '../engine.ts';
import type { GitLock } from './kptfile-upstream.ts';

// Where a clone or an upgrade takes its content from: a published PackageRevision of any registered
// repository in the namespace, or a package in a plain git repository.

export interface Upstream {
  files: Record<string, string>;
  lock: GitLock;
}

const invalid = (name: string, field: string, message: string, reason?: string): StatusError =>
  errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field, message, ...(reason ? { reason } : {}) } as StatusCause]);

function repoDirectory(repo: Repository): string {
  return (repo.spec.git?.directory ?? '').replace(/^\/+|\/+$/g, '');
}

/** The lock of a published revision, as Porch records it: the repository URL, package path, tag and commit. */
export function revisionLock(cache: RepositoryCache, packagePath: string, ref: string, commit: string): GitLock {
  const dir = repoDirectory(cache.repo);
  return {
    repo: cache.repo.spec.git?.repo ?? '',
    directory: dir ? `${dir}/${packagePath}` : packagePath,
    ref: ref.replace(/^refs\/(tags|heads)\//, ''),
    commit,
  };
}

/** A published PackageRevision as an upstream (`field` names it in the request, for errors). */
export async function revisionUpstream(engine: Engine, namespace: string, name: string, revName: string | undefined, field: string): Promise<Upstream & { cache: RepositoryCache; packagePath: string }> {
  if (!revName) throw invalid(name, field, 'Required value', 'FieldValueRequired');
  const found = engine.findRevision(namespace, revName);
  if (!found) throw invalid(name, field, `Not found: package revision "${revName}" in namespace "${namespace}"`, 'FieldValueNotFound');
  const rec = found.cache.record(revName)!;
  if (rec.lifecycle !== 'Published' && rec.lifecycle !== 'DeletionProposed')
    throw invalid(name, field, `Invalid value: "${revName}": an upstream must be a published package revision (it is ${rec.lifecycle})`);
  const files = await found.cache.git.readResources(rec.git.commit, rec.packagePath).catch((err: unknown) => {
    // Retry-After 1: kubectl retries up to ten times, so a blip is ridden out and an outage reported in ~10 s.
    if (err instanceof GitUnavailableError) throw errors.unavailable(`git repository unavailable: ${err.message}`, 1);
    throw err;
  });
  return { files, lock: revisionLock(found.cache, rec.packagePath, rec.git.ref, rec.git.commit), cache: found.cache, packagePath: rec.packagePath };
}

/** A package in a plain git repository, fetched with the request namespace's Secret if one is named. */
export async function gitUpstream(engine: Engine, namespace: string, name: string, git: NonNullable<NonNullable<NonNullable<Task['clone']>['upstreamRef']>['git']>): Promise<Upstream> {
  const field = 'spec.tasks[0].clone.upstreamRef.git';
  if (!git.repo) throw invalid(name, `${field}.repo`, 'Required value', 'FieldValueRequired');
  if (!/^(https?:\/\/|file:\/\/|\/)/.test(git.repo)) throw invalid(name, `${field}.repo`, `Invalid value: "${git.repo}": must be an http(s) or file URL or an absolute path`);
  if (!git.ref) throw invalid(name, `${field}.ref`, 'Required value', 'FieldValueRequired');
  if (git.directory.split('/').includes('..')) throw invalid(name, `${field}.directory`, `Invalid value: "${git.directory}": must not contain ".."`);
  let creds: Awaited<ReturnType<typeof resolveGitAuth>>;
  try {
    // The Secret is read like a Repository's: from the namespace of the request only.
    const pseudo = { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name: 'upstream', namespace }, spec: { git: { repo: git.repo, secretRef: git.secretRef } } } as Repository;
    creds = await resolveGitAuth(engine.store, pseudo);
  } catch (err) {
    if (err instanceof CredentialError) throw invalid(name, `${field}.secretRef.name`, `Invalid value: ${err.message}`);
    throw err;
  }
  try {
    const pkg = await readUpstreamPackage(
      { url: git.repo, ref: git.ref, directory: git.directory, auth: creds.auth, caBundle: creds.caBundle, timeoutMs: engine.deps.gitTimeoutMs },
      join(engine.deps.dataDir, 'upstreams'),
    );
    return { files: pkg.files, lock: { repo: git.repo, directory: git.directory, ref: git.ref, commit: pkg.commit } };
  } catch (err) {
    if (err instanceof UpstreamNotFoundError) throw invalid(name, field, `Not found: ${err.message}`, 'FieldValueNotFound');
    // No Retry-After: clients (kubectl) would retry for a minute a URL that is most likely wrong.
    if (err instanceof GitUnavailableError) throw errors.unavailable(`upstream git repository unavailable: ${err.message}`);
    throw err;
  }
}
