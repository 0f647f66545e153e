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

function loopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Why credentials must not go to `url`: plain http to a host other than loopback exposes them to
 * anyone on the path, so it takes --allow-insecure-git-credentials. Bearer tokens are held to the
 * same rule as basic credentials: they are as reusable.
 */
export function insecureCredentialProblem(url: string, allowInsecure: boolean): string | undefined {
  if (allowInsecure || !/^http:/i.test(url)) return undefined;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  if (loopback(host)) return undefined;
  return `credentials are not sent over plain http to "${host}": use https, or start the server with --allow-insecure-git-credentials`;
}

/**
 * Git credentials of a Repository: the Secret named in spec.git.secretRef, read from the Repository's
 * own namespace only (a tenant can never point at another tenant's Secret). Basic auth
 * (username/password) or a bearer token, as Porch reads them.
 */
export async function resolveGitAuth(store: Store, repo: Repository, opts: { allowInsecure?: boolean } = {}): Promise<{ auth?: GitAuth; caBundle?: string }> {
  const ns = repo.metadata.namespace ?? 'default';
  const out: { auth?: GitAuth; caBundle?: string } = {};
  const ca = await store.get(SECRETS, ns, `${ns}-ca-bundle`);
  const caText = decode(ca?.data as Record<string, string> | undefined, 'ca.crt');
  if (caText) out.caBundle = caText;
  const ref = repo.spec.git?.secretRef?.name;
  if (!ref) return out;
  const insecure = insecureCredentialProblem(repo.spec.git?.repo ?? '', opts.allowInsecure === true);
  if (insecure) throw new CredentialError(`secret "${ref}": ${insecure}`);
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
