import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateServingCertificate } from '../lib/auth/tls.ts';
import { writeFileAtomic } from '../lib/store/atomic-file.ts';

/** The admin token is kept in the data directory so a restart keeps old kubeconfigs working. */
export async function adminToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'admin-token');
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(path, token);
  return token;
}

export interface ServingCertificateOptions {
  dataDir: string;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** The serving certificate: the given files, or a self-signed one kept in the data directory. */
export async function servingCertificate(opts: ServingCertificateOptions): Promise<{ certPem: string; keyPem: string }> {
  if (opts.tlsCert && opts.tlsKey) return { certPem: await readFile(opts.tlsCert, 'utf8'), keyPem: await readFile(opts.tlsKey, 'utf8') };
  const certPath = join(opts.dataDir, 'serving.crt');
  const keyPath = join(opts.dataDir, 'serving.key');
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8').catch(() => ''), readFile(keyPath, 'utf8').catch(() => '')]);
  if (certPem && keyPem) return { certPem, keyPem };
  const hosts = ['localhost', '127.0.0.1', '::1'];
  if (!hosts.includes(opts.host) && opts.host !== '0.0.0.0' && opts.host !== '::') hosts.push(opts.host);
  const pair = await generateServingCertificate({ hosts });
  await writeFileAtomic(keyPath, pair.keyPem);
  await writeFileAtomic(certPath, pair.certPem);
  return pair;
}
