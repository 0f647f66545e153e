import { dnsLabelProblem, dnsSubdomainProblem } from './meta.ts';
import type { StatusCause } from '../errors.ts';
import { sha1 } from '../util.ts';

// Porch's naming: <repo>.<path segments>.<package>.<workspace>, "/" in the package path becoming ".".

export function packageRevisionName(repository: string, packagePath: string, workspace: string): string {
  return `${packageName(repository, packagePath)}.${workspace}`;
}

export function packageName(repository: string, packagePath: string): string {
  return `${repository}.${packagePath.split('/').join('.')}`;
}

const uuid = Buffer.alloc(36);

/**
 * Deterministic UIDs (a name-based UUID from SHA-1), so a revision keeps its UID across restarts.
 * Every cached revision has one: written into a buffer and read out as one string, not concatenated.
 */
export function deterministicUid(kind: string, namespace: string, name: string): string {
  const hex = sha1(`${kind}:porch.kpt.dev/v1alpha1/${namespace}/${name}`, 'hex');
  let o = 0;
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) uuid[o++] = 0x2d;
    uuid[o++] = hex.charCodeAt(i);
  }
  // Version 5 in the high nibble of byte 6, the RFC 4122 variant in the two high bits of byte 8.
  uuid[14] = 0x35;
  uuid[19] = '89ab'.charCodeAt(Number.parseInt(hex[16], 16) & 3);
  return uuid.toString('latin1');
}

/** Checks on the parts a new revision's name is made of, as Porch validates them. */
export function nameCauses(repository: string, packagePath: string, workspace: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const label = (value: string, field: string) => {
    const p = dnsLabelProblem(value);
    if (p) causes.push({ field, message: `Invalid value: "${value}": ${p}` });
  };
  label(repository, 'spec.repository');
  label(workspace, 'spec.workspaceName');
  const segments = packagePath.split('/');
  if (!packagePath || segments.some((s) => !s || s === '.' || s === '..')) {
    causes.push({ field: 'spec.packageName', message: `Invalid value: "${packagePath}": must be a relative path without empty, "." or ".." segments` });
  } else {
    label(segments[segments.length - 1], 'spec.packageName');
    const dir = segments.slice(0, -1).join('-');
    if (dir) {
      const p = dnsLabelProblem(dir);
      if (p) causes.push({ field: 'spec.packageName', message: `Invalid value: "${packagePath}": the path segments joined must form a DNS label: ${p}` });
    }
  }
  if (!causes.length) {
    const full = packageRevisionName(repository, packagePath, workspace);
    const p = dnsSubdomainProblem(full);
    if (p) causes.push({ field: 'metadata.name', message: `Invalid value: "${full}": ${p}` });
  }
  return causes;
}

/**
 * What errors about a new revision call it. Clients leave the name to the server, so instead of
 * `""`: the name given, else the one it gets from its parts, else its package.
 */
export function revisionNameForErrors(name: unknown, spec: unknown): string {
  if (typeof name === 'string' && name) return name;
  const s = (typeof spec === 'object' && spec !== null ? spec : {}) as Record<string, unknown>;
  const str = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : '');
  if (str('repository') && str('packageName') && str('workspaceName')) return packageRevisionName(str('repository'), str('packageName'), str('workspaceName'));
  return str('packageName');
}
