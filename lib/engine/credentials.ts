import { findResource } from '../api/resources.ts';
import type { Repository } from '../api/repository.ts';
import type { GitAuth } from '../git/types.ts';
import type { Store } from '../store/types.ts';

const SECRETS = findResource('', 'v1', 'secrets')!;

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

export class CredentialError extends Error {}

/**
 * Git credentials of a Repository: the Secret named in spec.git.secretRef, read from the Repository's
 * own namespace only (a tenant can never point at another tenant's Secret). Basic auth
 * (username/password) or a bearer token, as Porch reads them.
 */
export async function resolveGitAuth(store: Store, repo: Repository): Promise<{ auth?: GitAuth; caBundle?: string }> {
  const ns = repo.metadata.namespace ?? 'default';
  const out: { auth?: GitAuth; caBundle?: string } = {};
  const ca = await store.get(SECRETS, ns, `${ns}-ca-bundle`);
  const caText = decode(ca?.data as Record<string, string> | undefined, 'ca.crt');
  if (caText) out.caBundle = caText;
  const ref = repo.spec.git?.secretRef?.name;
  if (!ref) return out;
  const secret = await store.get(SECRETS, ns, ref);
  if (!secret) throw new CredentialError(`secret "${ref}" referenced by the repository was not found in namespace "${ns}"`);
  const data = secret.data as Record<string, string> | undefined;
  const token = decode(data, 'bearerToken');
  if (token) {
    out.auth = { kind: 'bearer', token };
    return out;
  }
  const username = decode(data, 'username');
  const password = decode(data, 'password');
  if (username === undefined || password === undefined)
    throw new CredentialError(`secret "${ref}" must hold username and password (kubernetes.io/basic-auth) or bearerToken`);
  out.auth = { kind: 'basic', username, password };
  return out;
}
