import { dirname } from 'node:path';
import YAML from 'yaml';
import { mkdirPrivate, writeFileAtomic } from '../lib/store/atomic-file.ts';

export interface KubeconfigOptions {
  /** PEM of the CA (or self-signed certificate) the server's certificate chains to, for https servers. */
  caPem?: string;
  /** Name of the user entry; porch-ts-admin by default. */
  userName?: string;
  /** A client certificate instead of (or besides) the token. */
  clientCertPem?: string;
  clientKeyPem?: string;
}

/** The kubeconfig document, for writing per-user kubeconfigs (tests, docs). */
export function kubeconfigDocument(server: string, token: string | undefined, namespace = 'default', opts: KubeconfigOptions = {}): Record<string, unknown> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cluster: Record<string, string> = { server };
  if (opts.caPem) cluster['certificate-authority-data'] = b64(opts.caPem);
  const user: Record<string, string> = {};
  if (token) user.token = token;
  if (opts.clientCertPem) user['client-certificate-data'] = b64(opts.clientCertPem);
  if (opts.clientKeyPem) user['client-key-data'] = b64(opts.clientKeyPem);
  const userName = opts.userName ?? 'porch-ts-admin';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'porch-ts', cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name: 'porch-ts', context: { cluster: 'porch-ts', user: userName, namespace } }],
    'current-context': 'porch-ts',
    preferences: {},
  };
}

/** A kubeconfig pointing kubectl at this server with the given token (and CA, for https). */
export async function writeKubeconfig(path: string, server: string, token: string | undefined, namespace = 'default', opts: KubeconfigOptions = {}): Promise<void> {
  const doc = kubeconfigDocument(server, token, namespace, opts);
  await mkdirPrivate(dirname(path));
  await writeFileAtomic(path, YAML.stringify(doc), false);
}

