import { join } from 'node:path';
import type { Task } from '../../api/porch.ts';
import type { Repository } from '../../api/repository.ts';
import type { RepositoryCache } from '../../cache/repository-cache.ts';
import { errors, StatusError, type StatusCause } from '../../errors.ts';
import type { PackageContents } from '../../git/file-origin.ts';
import { GitUnavailableError } from '../../git/types.ts';
import { readUpstreamPackage, UpstreamNotFoundError, UpstreamTooLargeError } from '../../git/upstream.ts';
import { packageTooLarge } from '../../package-size.ts';
import { CredentialError, resolveGitAuth } from '../credentials.ts';
import type { Engine } from '../engine.ts';
import type { GitLock } from './kptfile-upstream.ts';
import { trimSlashes } from '../../util.ts';
import { checkLocalRepository, LocalPathError } from '../../local-path.ts';
import { requireSecretAccess, type Requester } from '../../auth/requester.ts';

// Where a clone or an upgrade takes its content from: a published PackageRevision of any registered
// repository in the namespace, or a package in a plain git repository.

export interface Upstream extends PackageContents {
  lock: GitLock;
}

type GitPackage = NonNullable<NonNullable<NonNullable<Task['clone']>['upstreamRef']>['git']>;

const invalid = (name: string, field: string, message: string, reason?: string): StatusError =>
  errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field, message, ...(reason ? { reason } : {}) } as StatusCause]);

/** The lock of a published revision: the repository URL, the package's path in it, the tag and its commit. */
export function revisionLock(cache: RepositoryCache, packagePath: string, ref: string, commit: string): GitLock {
  const dir = trimSlashes(cache.repo.spec.git?.directory ?? '');
  return {
    repo: cache.repo.spec.git?.repo ?? '',
    // The path from the repository root, so the lock names where the files are (kpt reads it so).
    directory: dir ? `${dir}/${packagePath}` : packagePath,
    ref: ref.replace(/^refs\/(tags|heads)\//, ''),
    commit,
  };
}

/**
 * A published PackageRevision as an upstream (`field` names it in the request, for errors). Like
 * Porch, the placeholder revision of the registered branch cannot be one: it is not a release.
 */
export async function revisionUpstream(engine: Engine, namespace: string, name: string, revName: string | undefined, field: string): Promise<Upstream & { cache: RepositoryCache; packagePath: string }> {
  if (!revName) throw invalid(name, field, 'Required value', 'FieldValueRequired');
  const found = engine.findRevision(namespace, revName);
  const rec = found?.cache.record(revName);
  if (!found || !rec) throw invalid(name, field, `Not found: package revision "${revName}" in namespace "${namespace}"`, 'FieldValueNotFound');
  if (rec.lifecycle !== 'Published' && rec.lifecycle !== 'DeletionProposed')
    throw invalid(name, field, `Invalid value: "${revName}": an upstream must be a published package revision (it is ${rec.lifecycle})`);
  if (rec.git.kind === 'placeholder') throw invalid(name, field, `Invalid value: "${revName}": the placeholder revision of the registered branch cannot be an upstream; name a published revision`);
  const { files, origins } = await found.cache.readContents(rec).catch((err: unknown) => {
    // Retry-After 1: kubectl retries up to ten times, so a blip is ridden out and an outage reported in ~10 s.
    if (err instanceof GitUnavailableError) throw errors.unavailable(`git repository unavailable: ${err.message}`, 1);
    throw err;
  });
  return { files, origins, lock: revisionLock(found.cache, rec.packagePath, rec.git.ref, rec.git.commit), cache: found.cache, packagePath: rec.packagePath };
}

function checkGitPackage(name: string, field: string, git: GitPackage): void {
  if (!git.repo) throw invalid(name, `${field}.repo`, 'Required value', 'FieldValueRequired');
  if (!/^(https?:\/\/|file:\/\/\/|\/)/.test(git.repo)) throw invalid(name, `${field}.repo`, `Invalid value: "${git.repo}": must be an http(s) or file URL or an absolute path`);
  if (!git.ref) throw invalid(name, `${field}.ref`, 'Required value', 'FieldValueRequired');
  if (/[\s~^:?*[\\]|\.\.|^-/.test(git.ref)) throw invalid(name, `${field}.ref`, `Invalid value: "${git.ref}": not a valid git branch, tag or commit name`);
  if (git.directory.split('/').some((s) => s === '..' || s === '.') || git.directory.includes('\0'))
    throw invalid(name, `${field}.directory`, `Invalid value: "${git.directory}": must be a path inside the repository, without "." or ".." segments`);
}

/**
 * A package in a plain git repository, fetched with a Secret of the request's namespace if one is
 * named, which the requester must be allowed to read: otherwise naming it would hand its
 * credentials to any URL they like.
 */
export async function gitUpstream(engine: Engine, namespace: string, name: string, git: GitPackage, requester: Requester): Promise<Upstream> {
  const field = 'spec.tasks[0].clone.upstreamRef.git';
  checkGitPackage(name, field, git);
  let local: string | undefined;
  try {
    local = await checkLocalRepository(git.repo, engine.security.localPaths);
  } catch (err) {
    if (err instanceof LocalPathError) throw invalid(name, `${field}.repo`, `Forbidden: ${err.message}`, 'FieldValueForbidden');
    throw err;
  }
  const secretField = `${field}.secretRef.name`;
  if (git.secretRef?.name) await requireSecretAccess(requester, namespace, git.secretRef.name);
  let creds: Awaited<ReturnType<typeof resolveGitAuth>>;
  try {
    // The Secret is read like a Repository's: from the namespace of the request only.
    const pseudo = { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name: 'upstream', namespace }, spec: { git: { repo: git.repo, secretRef: git.secretRef } } } as Repository;
    creds = await resolveGitAuth(engine.store, pseudo, { allowInsecure: engine.security.allowInsecureGitCredentials });
  } catch (err) {
    if (err instanceof CredentialError) throw invalid(name, secretField, `Invalid value: ${err.message}`);
    throw err;
  }
  try {
    const pkg = await readUpstreamPackage(
      // A local repository is read at the real path just checked, so a symlink swapped since cannot redirect it.
      { url: local ?? git.repo, ref: git.ref, directory: git.directory, auth: creds.auth, caBundle: creds.caBundle, timeoutMs: engine.deps.gitTimeoutMs, maxBytes: engine.security.maxPackageBytes },
      join(engine.deps.dataDir, 'upstreams'),
    );
    return { files: pkg.files, origins: pkg.origins, lock: { repo: git.repo, directory: trimSlashes(git.directory), ref: pkg.ref, commit: pkg.commit } };
  } catch (err) {
    if (err instanceof UpstreamTooLargeError) throw packageTooLarge(`the upstream package ${git.repo}`, err.limit);
    if (err instanceof UpstreamNotFoundError) throw invalid(name, `${field}.${err.part}`, `Not found: ${err.message}`, 'FieldValueNotFound');
    if (err instanceof GitUnavailableError && err.authFailed) {
      if (!git.secretRef?.name) throw invalid(name, secretField, `Required value: the upstream refused access without credentials (${err.message})`, 'FieldValueRequired');
      throw invalid(name, secretField, `Invalid value: "${git.secretRef.name}": the upstream refused these credentials (${err.message})`);
    }
    // No Retry-After: clients (kubectl) would retry for a minute a URL that is most likely wrong.
    if (err instanceof GitUnavailableError) throw errors.unavailable(`upstream git repository unavailable: ${err.message}`);
    throw err;
  }
}
