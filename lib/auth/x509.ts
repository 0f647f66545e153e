import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { UserInfo } from './user.ts';
import type { AuthRequest, Authenticator } from './chain.ts';
import { checkChainConstraints } from './x509-constraints.ts';
import { certificateFields, subjectIdentity } from './x509-fields.ts';
import { errMessage } from '../errors.ts';

export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
const MAX_DEPTH = 8;

/** The certificates in a PEM bundle (a CA file may hold several, e.g. during rotation). */
export function parsePemBundle(pem: string | Buffer): X509Certificate[] {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export async function loadCaBundle(path: string): Promise<X509Certificate[]> {
  const certs = parsePemBundle(await readFile(path));
  if (certs.length === 0) throw new Error(`${path}: no PEM certificates found`);
  return certs;
}

export class CertificateVerifyError extends Error {}

export interface ChainVerifyOptions {
  roots: X509Certificate[];
  intermediates?: X509Certificate[];
  now?: Date;
  /** Extended key usage the leaf (and any CA in the chain that restricts usage) must allow. */
  keyUsage?: string;
}

function timeError(cert: X509Certificate, now: Date): string | undefined {
  const { notBefore, notAfter } = certificateFields(cert);
  if (now < notBefore) return `x509: certificate has expired or is not yet valid: current time ${now.toISOString()} is before ${notBefore.toISOString()}`;
  if (now > notAfter) return `x509: certificate has expired or is not yet valid: current time ${now.toISOString()} is after ${notAfter.toISOString()}`;
  return undefined;
}

function allowsUsage(cert: X509Certificate, usage: string): boolean {
  const ekus = cert.keyUsage;
  // No extension at all means no restriction, as in Go's crypto/x509.
  return !ekus || ekus.length === 0 || ekus.includes(EKU_ANY) || ekus.includes(usage);
}

function describe(cert: X509Certificate): string {
  const { commonName } = subjectIdentity(certificateFields(cert));
  return commonName ? JSON.stringify(commonName) : cert.subject.replace(/\n/g, ', ');
}

/**
 * Checks that `leaf` chains up to one of `roots` through the supplied intermediates, that every
 * certificate on the way is within its validity period and that CAs are CAs, as Go's
 * x509.Certificate.Verify does for kube-apiserver. Returns the chain, leaf first.
 */
export function verifyCertificateChain(leaf: X509Certificate, opts: ChainVerifyOptions): X509Certificate[] {
  const now = opts.now ?? new Date();
  const leafTime = timeError(leaf, now);
  if (leafTime) throw new CertificateVerifyError(leafTime);
  const intermediates = opts.intermediates ?? [];
  let hint: string | undefined;

  const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean => {
    if (!child.checkIssued(parent)) return false;
    try {
      if (child.verify(parent.publicKey)) return true;
      hint ??= `x509: signature from ${describe(parent)} does not verify`;
    } catch {
      hint ??= `x509: signature from ${describe(parent)} could not be checked`;
    }
    return false;
  };
  const usable = (parent: X509Certificate): boolean => {
    const err = timeError(parent, now);
    if (err) hint ??= `${err} (candidate authority ${describe(parent)})`;
    return !err;
  };

  const search = (cert: X509Certificate, chain: X509Certificate[]): X509Certificate[] | undefined => {
    if (opts.roots.some((r) => r.fingerprint256 === cert.fingerprint256)) return chain;
    for (const root of opts.roots) if (issuedBy(cert, root) && usable(root)) return [...chain, root];
    if (chain.length >= MAX_DEPTH) return undefined;
    for (const mid of intermediates) {
      if (chain.some((c) => c.fingerprint256 === mid.fingerprint256)) continue;
      if (!mid.ca) continue;
      if (!issuedBy(cert, mid) || !usable(mid)) continue;
      const found = search(mid, [...chain, mid]);
      if (found) return found;
    }
    return undefined;
  };

  const chain = search(leaf, [leaf]);
  if (!chain) throw new CertificateVerifyError(`x509: certificate signed by unknown authority${hint ? ` (possibly because of ${JSON.stringify(hint)})` : ''}`);
  if (opts.keyUsage && !chain.every((c) => allowsUsage(c, opts.keyUsage ?? ''))) throw new CertificateVerifyError('x509: certificate specifies an incompatible key usage');
  return chain;
}

export type CaSource = X509Certificate[] | (() => X509Certificate[]);

function rootsOf(src: CaSource): X509Certificate[] {
  return typeof src === 'function' ? src() : src;
}

/** A short identifier for error messages, like kube-apiserver's "SN=..., SKID=..." prefix. */
export function certificateIdentifier(cert: X509Certificate): string {
  return `SN=${BigInt(`0x${cert.serialNumber}`).toString()}, CN=${describe(cert)}`;
}

/**
 * Verifies a client certificate for client authentication against a CA bundle, throwing if it does
 * not: the chain search above, then every constraint the chain's CAs set (x509-constraints.ts).
 */
export async function verifyClientCertificate(req: AuthRequest, roots: CaSource, now?: Date): Promise<X509Certificate[]> {
  const leaf = req.peerCertificate;
  if (!leaf) throw new CertificateVerifyError('no client certificate');
  try {
    const chain = verifyCertificateChain(leaf, { roots: rootsOf(roots), intermediates: req.intermediates, now, keyUsage: EKU_CLIENT_AUTH });
    await checkChainConstraints(chain, now ?? new Date());
    return chain;
  } catch (err) {
    const msg = errMessage(err);
    throw new CertificateVerifyError(`verifying certificate ${certificateIdentifier(leaf)} failed: ${msg}`);
  }
}

export interface ClientCertificateOptions {
  now?: () => Date;
}

/**
 * --client-ca-file authentication: a certificate issued by the client CA names the user in its CN
 * and the groups in its O attributes. A certificate that does not verify is a failed login; a
 * connection without one has no opinion.
 */
export class ClientCertificateAuthenticator implements Authenticator {
  constructor(
    private readonly roots: CaSource,
    private readonly opts: ClientCertificateOptions = {},
  ) {}

  static async fromFile(path: string, opts?: ClientCertificateOptions): Promise<ClientCertificateAuthenticator> {
    return new ClientCertificateAuthenticator(await loadCaBundle(path), opts);
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    if (!req.peerCertificate) return undefined;
    const [leaf] = await verifyClientCertificate(req, this.roots, this.opts.now?.());
    const { commonName, organizations } = subjectIdentity(certificateFields(leaf));
    if (!commonName) return undefined;
    const id = createHash('sha256').update(leaf.raw).digest('hex');
    return { username: commonName, groups: organizations, extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${id}`] } };
  }
}
