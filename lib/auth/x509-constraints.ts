import type { X509Certificate } from 'node:crypto';
import { BasicConstraints, Certificate, CertificateChainValidationEngine, NameConstraints, type GeneralSubtree } from 'pkijs';

// What a chain's CAs allow beneath them: the RFC 5280 path checks (signatures, validity, CA-ness,
// name constraints on subjects and alternative names, critical extensions) are pkijs's; pkijs does
// not apply pathLenConstraint, so that one rule is checked here on the extension pkijs parsed.

const BASIC_CONSTRAINTS = '2.5.29.19';
const NAME_CONSTRAINTS = '2.5.29.30';

export class ChainConstraintError extends Error {}

function pathLength(cert: Certificate): number | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === BASIC_CONSTRAINTS);
  const value: unknown = ext?.parsedValue;
  if (!(value instanceof BasicConstraints) || !value.cA) return undefined;
  const limit: unknown = value.pathLenConstraint;
  return typeof limit === 'number' ? limit : undefined;
}

/** A trust anchor's own name constraints: pkijs applies them only when given as the initial sets. */
function anchorSubtrees(root: Certificate): { initialPermittedSubtreesSet: GeneralSubtree[]; initialExcludedSubtreesSet: GeneralSubtree[] } {
  const value: unknown = root.extensions?.find((e) => e.extnID === NAME_CONSTRAINTS)?.parsedValue;
  if (!(value instanceof NameConstraints)) return { initialPermittedSubtreesSet: [], initialExcludedSubtreesSet: [] };
  return { initialPermittedSubtreesSet: value.permittedSubtrees ?? [], initialExcludedSubtreesSet: value.excludedSubtrees ?? [] };
}

function commonName(cert: Certificate): string {
  const cn = cert.subject.typesAndValues.find((t) => t.type === '2.5.4.3');
  return cn ? JSON.stringify(String(cn.value.valueBlock.value)) : 'a CA';
}

/**
 * Checks `chain` (leaf first, trusted root last, as the chain search found it) against every
 * constraint its CAs set; throws ChainConstraintError naming the one broken.
 */
export async function checkChainConstraints(chain: X509Certificate[], now: Date): Promise<void> {
  if (chain.length < 2) return;
  const certs = chain.map((c) => Certificate.fromBER(new Uint8Array(c.raw)));
  // A CA with pathLenConstraint n may have at most n CAs below it before the leaf.
  for (let i = 2; i < certs.length; i++) {
    const limit = pathLength(certs[i]);
    if (limit !== undefined && i - 1 > limit) throw new ChainConstraintError(`x509: too many intermediates for path length constraint of ${commonName(certs[i])} (pathlen:${limit})`);
  }
  const root = certs[certs.length - 1];
  // pkijs takes the chain below the anchor with the end-entity last.
  const engine = new CertificateChainValidationEngine({ trustedCerts: [root], certs: certs.slice(0, -1).reverse(), checkDate: now });
  const result = await engine.verify(anchorSubtrees(root));
  if (!result.result) throw new ChainConstraintError(`x509: ${result.resultMessage}`);
}
