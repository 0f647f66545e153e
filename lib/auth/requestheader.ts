import type { UserInfo } from './user.ts';
import type { AuthRequest, Authenticator } from './chain.ts';
import { headerEntries, headerValue, headerValues } from './headers.ts';
import { CertificateVerifyError, loadCaBundle, verifyClientCertificate, type CaSource } from './x509.ts';
import { certificateFields, subjectIdentity } from './x509-fields.ts';

export interface RequestHeaderOptions {
  /** --requestheader-client-ca-file: the CA that signs the front proxy's (kube-aggregator's) client certificate. */
  clientCA: CaSource;
  /** --requestheader-allowed-names: CNs the proxy certificate may have; empty allows any the CA signed. */
  allowedNames?: string[];
  usernameHeaders?: string[];
  uidHeaders?: string[];
  groupHeaders?: string[];
  extraHeaderPrefixes?: string[];
  now?: () => Date;
}

/** kube-apiserver's defaults, which kube-aggregator sends when it proxies to an extension API server. */
export const DEFAULT_REQUEST_HEADERS = {
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: [] as string[],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    // kube-apiserver keeps a malformed key as sent rather than dropping the value.
    return encoded;
  }
}

/**
 * The aggregation layer's front-proxy authentication. kube-aggregator authenticates the end user and
 * forwards the identity in X-Remote-* headers over a connection authenticated with its own client
 * certificate. Those headers are only believed on such a connection: without a certificate they are
 * ignored, and with one that does not chain to the request-header CA (or has a CN not allowed) the
 * attempt fails, leaving later authenticators in the chain to try.
 */
export class RequestHeaderAuthenticator implements Authenticator {
  private readonly usernameHeaders: string[];
  private readonly uidHeaders: string[];
  private readonly groupHeaders: string[];
  private readonly extraPrefixes: string[];

  constructor(private readonly opts: RequestHeaderOptions) {
    this.usernameHeaders = opts.usernameHeaders ?? DEFAULT_REQUEST_HEADERS.usernameHeaders;
    this.uidHeaders = opts.uidHeaders ?? DEFAULT_REQUEST_HEADERS.uidHeaders;
    this.groupHeaders = opts.groupHeaders ?? DEFAULT_REQUEST_HEADERS.groupHeaders;
    this.extraPrefixes = (opts.extraHeaderPrefixes ?? DEFAULT_REQUEST_HEADERS.extraHeaderPrefixes).map((p) => p.toLowerCase());
  }

  static async fromFile(path: string, opts: Omit<RequestHeaderOptions, 'clientCA'> = {}): Promise<RequestHeaderAuthenticator> {
    return new RequestHeaderAuthenticator({ ...opts, clientCA: await loadCaBundle(path) });
  }

  /** Header names whose values a handler must never trust or pass on, for stripping after authentication. */
  get headerNames(): { exact: string[]; prefixes: string[] } {
    return { exact: [...this.usernameHeaders, ...this.uidHeaders, ...this.groupHeaders], prefixes: this.extraPrefixes };
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    if (!req.peerCertificate) return undefined;
    const [leaf] = await verifyClientCertificate(req, this.opts.clientCA, this.opts.now?.());
    const allowed = this.opts.allowedNames ?? [];
    if (allowed.length > 0) {
      const { commonName } = subjectIdentity(certificateFields(leaf));
      if (!allowed.includes(commonName)) throw new CertificateVerifyError(`x509: subject with cn=${commonName} is not in the allowed list`);
    }

    const first = (names: string[]) => {
      for (const n of names) {
        const v = headerValue(req.headers, n);
        if (v) return v;
      }
      return '';
    };
    const username = first(this.usernameHeaders);
    // A trusted proxy that names nobody is vouching for no one; its own certificate may still log it in.
    if (!username) return undefined;

    const user: UserInfo = { username, groups: this.groupHeaders.flatMap((n) => headerValues(req.headers, n)).filter((g) => g !== '') };
    const uid = first(this.uidHeaders);
    if (uid) user.uid = uid;
    const extra: Record<string, string[]> = {};
    const entries = headerEntries(req.headers);
    for (const prefix of this.extraPrefixes)
      for (const [name, values] of entries) {
        if (!name.startsWith(prefix)) continue;
        const key = unescapeExtraKey(name.slice(prefix.length));
        extra[key] = [...(extra[key] ?? []), ...values];
      }
    if (Object.keys(extra).length > 0) user.extra = extra;
    return user;
  }
}
