import { dnsLabelProblem, type KubeObject } from '../api/meta.ts';
import { REPOSITORY_IMMUTABLE_FIELDS, type RepositorySpec } from '../api/repository.ts';
import type { StatusCause } from '../errors.ts';
import { jsonEqual } from '../util.ts';
import { syncSpecProblems } from '../sync/schedule.ts';
import type { Strategy } from './types.ts';
import { checkLocalRepository, LocalPathError } from '../local-path.ts';
import { requireSecretAccess } from '../auth/requester.ts';
import { insecureCredentialProblem } from '../engine/credentials.ts';
import { errors } from '../errors.ts';

function spec(obj: KubeObject): RepositorySpec {
  return (obj.spec ?? {}) as RepositorySpec;
}

function field(obj: unknown, keys: readonly string[]): unknown {
  let cur = obj;
  for (const k of keys) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

export const repositoryStrategy: Strategy = {
  prepareForCreate(obj) {
    const s = spec(obj);
    obj.spec = s;
    s.type ??= s.oci && !s.git ? 'oci' : 'git';
    s.content ??= 'Package';
    if (s.git) s.git.branch ||= 'main';
  },
  prepareForUpdate(obj, old) {
    const s = spec(obj);
    obj.spec = s;
    s.type ??= spec(old).type;
    s.content ??= 'Package';
    if (s.git && !s.git.branch) s.git.branch = spec(old).git?.branch || 'main';
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    const name = obj.metadata.name ?? '';
    const nameProblem = dnsLabelProblem(name);
    if (nameProblem) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": ${nameProblem}` });
    const s = spec(obj);
    if (s.type === 'git' && !s.git) causes.push({ reason: 'FieldValueRequired', field: 'spec.git', message: 'Required value: git repository details are required for type git' });
    if (s.type === 'oci' && !s.oci) causes.push({ reason: 'FieldValueRequired', field: 'spec.oci', message: 'Required value: oci registry details are required for type oci' });
    if (s.git?.repo) {
      const repo = s.git.repo;
      const ok = /^(https?|file):\/\//.test(repo) || repo.startsWith('/');
      if (!ok) causes.push({ field: 'spec.git.repo', message: `Invalid value: "${repo}": must be an http(s):// or file:// URL or an absolute path` });
      if (/^https?:\/\//.test(repo)) {
        try {
          new URL(repo);
        } catch {
          causes.push({ field: 'spec.git.repo', message: `Invalid value: "${repo}": not a valid URL` });
        }
      }
    }
    if (s.git?.directory && (s.git.directory.split('/').includes('..') || s.git.directory.includes('\\')))
      causes.push({ field: 'spec.git.directory', message: `Invalid value: "${s.git.directory}": must not contain ".." segments` });
    if (s.git?.branch !== undefined && !/^[A-Za-z0-9._\/-]+$/.test(s.git.branch))
      causes.push({ field: 'spec.git.branch', message: `Invalid value: "${s.git.branch}": not a valid branch name` });
    causes.push(...syncSpecProblems(s.sync));
    return causes;
  },
  // Checked when set or changed, so an unrelated update (a sync schedule) needs no new rights.
  async admit(obj, old, { requester, security }) {
    const s = spec(obj);
    const before = old ? spec(old) : undefined;
    const name = obj.metadata.name ?? '';
    const repo = s.git?.repo;
    const forbidden = (field: string, message: string) =>
      errors.invalid('Repository', 'config.porch.kpt.dev', name, [{ reason: 'FieldValueForbidden', field, message: `Forbidden: ${message}` }]);
    if (repo && repo !== before?.git?.repo) {
      try {
        await checkLocalRepository(repo, security.localPaths);
      } catch (err) {
        if (err instanceof LocalPathError) throw forbidden('spec.git.repo', err.message);
        throw err;
      }
    }
    const secret = s.git?.secretRef?.name;
    if (secret && (secret !== before?.git?.secretRef?.name || repo !== before?.git?.repo)) {
      const insecure = insecureCredentialProblem(repo ?? '', security.allowInsecureGitCredentials);
      if (insecure) throw forbidden('spec.git.secretRef.name', `secret "${secret}": ${insecure}`);
      await requireSecretAccess(requester, obj.metadata.namespace ?? 'default', secret);
    }
  },
  validateUpdate(obj, old) {
    const causes: StatusCause[] = [];
    for (const keys of REPOSITORY_IMMUTABLE_FIELDS) {
      const before = field(old.spec, keys);
      const after = field(obj.spec, keys);
      if (before !== undefined && !jsonEqual(before, after))
        causes.push({ field: `spec.${keys.join('.')}`, message: 'Invalid value: field is immutable' });
    }
    return causes;
  },
};
