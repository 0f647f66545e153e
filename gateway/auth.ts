import { readFile } from 'node:fs/promises';
import type { UserInfo } from '../lib/auth/user.ts';
import { ALL_RULES, alwaysAllowPathsAuthorizer, privilegedGroupsAuthorizer, unionAuthorizer, type Authorizer } from '../lib/auth/authorizer.ts';
import { BearerTokenAuthenticator, unionTokenAuthenticator, WebSocketProtocolTokenAuthenticator, type TokenAuthenticator } from '../lib/auth/bearer-token.ts';
import { AuthenticatorChain, authRequestFrom, type Authenticator, type NodeRequestLike } from '../lib/auth/chain.ts';
import { bootstrapPolicy } from '../lib/auth/default-policy.ts';
import { RbacAuthorizer } from '../lib/auth/rbac.ts';
import { loadRbacFile } from '../lib/auth/rbac-objects.ts';
import { DEFAULT_REQUEST_HEADERS, RequestHeaderAuthenticator } from '../lib/auth/requestheader.ts';
import { StaticTokenAuthenticator } from '../lib/auth/static-tokens.ts';
import { TokenFileAuthenticator } from '../lib/auth/token-file.ts';
import { ClientCertificateAuthenticator, loadCaBundle } from '../lib/auth/x509.ts';
import type { Logger } from '../lib/log.ts';
import { lookupExtensionApiserverAuthentication, type ExtensionApiserverAuthentication } from '../lib/auth/delegated-config.ts';
import { SubjectAccessReviewAuthorizer } from '../lib/auth/subject-access-review.ts';
import { TokenReviewAuthenticator, type ApiPoster } from '../lib/auth/token-review.ts';
import { parsePemBundle } from '../lib/auth/x509.ts';

export const HEALTH_PATHS = ['/healthz', '/livez', '/readyz'];

export interface AuthConfig {
  /** The dev runner's admin token (porch-ts-admin, system:masters). */
  adminToken?: string;
  tokenFile?: string;
  rbacFile?: string;
  clientCA?: string;
  requestheaderClientCA?: string;
  requestheaderAllowedNames?: string[];
  allowAnonymous: boolean;
  log?: Logger;
}

export interface GatewayAuth {
  authenticate(req: Request, incoming?: NodeRequestLike): Promise<UserInfo>;
  authorizer: Authorizer;
  /** Headers that carry a front proxy's claims, removed from every request once it is authenticated. */
  strip: { exact: string[]; prefixes: string[] };
  /** PEM bundle of every CA that may sign client certificates, for the TLS server's `ca` option. */
  clientCAPem: string[];
}

export const ADMIN_USER: UserInfo = { username: 'porch-ts-admin', groups: ['system:masters', 'system:authenticated'] };

/** Everything allowed: the dev default when no RBAC file is given. */
export const allowAll: Authorizer = {
  authorize: async () => ({ allowed: true, reason: 'allowed: no authorization configured' }),
  rules: () => ({ rules: ALL_RULES, incomplete: false }),
};

/**
 * The authenticator chain and authorizer of kube-apiserver, as far as the dev runner configures it:
 * request header → bearer tokens (admin + token file, also as WebSocket subprotocol) → client
 * certificate → anonymous (if allowed); RBAC (with bootstrap policy and system:masters) or allow-all.
 */
export async function buildAuth(cfg: AuthConfig): Promise<GatewayAuth> {
  const authenticators: Authenticator[] = [];
  const clientCAPem: string[] = [];
  let strip = {
    exact: [...DEFAULT_REQUEST_HEADERS.usernameHeaders, ...DEFAULT_REQUEST_HEADERS.uidHeaders, ...DEFAULT_REQUEST_HEADERS.groupHeaders],
    prefixes: DEFAULT_REQUEST_HEADERS.extraHeaderPrefixes,
  };
  if (cfg.requestheaderClientCA) {
    const rh = new RequestHeaderAuthenticator({
      clientCA: await loadCaBundle(cfg.requestheaderClientCA),
      allowedNames: cfg.requestheaderAllowedNames ?? [],
    });
    strip = rh.headerNames;
    authenticators.push(rh);
    clientCAPem.push(await readFile(cfg.requestheaderClientCA, 'utf8'));
  }

  const sources: TokenAuthenticator[] = [];
  if (cfg.adminToken) sources.push(new StaticTokenAuthenticator(new Map([[cfg.adminToken, ADMIN_USER]])));
  if (cfg.tokenFile) {
    const file = await TokenFileAuthenticator.fromFile(cfg.tokenFile);
    for (const w of file.warnings) cfg.log?.warn('token file', { warning: w });
    sources.push(file);
  }
  if (sources.length > 0) {
    const tokens = unionTokenAuthenticator(...sources);
    authenticators.push(new BearerTokenAuthenticator(tokens), new WebSocketProtocolTokenAuthenticator(tokens));
  }

  if (cfg.clientCA) {
    authenticators.push(await ClientCertificateAuthenticator.fromFile(cfg.clientCA));
    clientCAPem.push(await readFile(cfg.clientCA, 'utf8'));
  }

  const chain = new AuthenticatorChain(authenticators, { anonymous: cfg.allowAnonymous });

  let authorizer: Authorizer = allowAll;
  if (cfg.rbacFile) {
    const rbac = new RbacAuthorizer([...(await loadRbacFile(cfg.rbacFile)), ...bootstrapPolicy()], { superuserGroups: ['system:masters'] });
    authorizer = unionAuthorizer(alwaysAllowPathsAuthorizer(HEALTH_PATHS), privilegedGroupsAuthorizer(['system:masters']), rbac);
  }

  return {
    authenticate: (req, incoming) => chain.authenticate(authRequestFrom(req, incoming)),
    authorizer,
    strip,
    clientCAPem,
  };
}

export interface DelegatedAuthConfig {
  /** Posts TokenReviews and SubjectAccessReviews to kube-apiserver (the cluster client's post). */
  post: ApiPoster;
  /**
   * GETs a kube-apiserver path, for kube-system/extension-apiserver-authentication; absent skips the
   * lookup (--authentication-skip-lookup), leaving only the CA files given on the command line.
   */
  get?: (path: string) => Promise<unknown>;
  /** --requestheader-client-ca: used instead of the ConfigMap's front-proxy CA. */
  requestheaderClientCA?: string;
  /** --requestheader-allowed-names: used instead of the ConfigMap's list when given. */
  requestheaderAllowedNames?: string[];
  /** --client-ca: used instead of the ConfigMap's client CA. */
  clientCA?: string;
  allowAnonymous: boolean;
  /** How long TokenReview and SubjectAccessReview answers are reused (kube's defaults: 10 s). */
  tokenCacheTtlMs?: number;
  authorizedCacheTtlMs?: number;
  unauthorizedCacheTtlMs?: number;
  log?: Logger;
}

/**
 * The authentication and authorization of an aggregated API server, as k8s.io/apiserver's delegating
 * options set them up: front-proxy request headers and client certificates checked against the CAs
 * kube-apiserver publishes (or the files given), bearer tokens by TokenReview, anonymous if allowed;
 * decisions by SubjectAccessReview, except health probes and system:masters, which are always allowed.
 */
export async function buildDelegatedAuth(cfg: DelegatedAuthConfig): Promise<GatewayAuth> {
  const published: ExtensionApiserverAuthentication = cfg.get ? ((await lookupExtensionApiserverAuthentication(cfg.get)) ?? {}) : {};
  if (cfg.get && !published.requestHeader && !cfg.requestheaderClientCA)
    cfg.log?.warn('no front-proxy CA: requests forwarded by kube-aggregator cannot be authenticated', { configMap: 'kube-system/extension-apiserver-authentication' });
  const authenticators: Authenticator[] = [];
  const clientCAPem: string[] = [];

  const rhPem = cfg.requestheaderClientCA ? await readFile(cfg.requestheaderClientCA, 'utf8') : published.requestHeader?.clientCAPem;
  const rhHeaders = published.requestHeader ?? DEFAULT_REQUEST_HEADERS;
  let strip = { exact: [...rhHeaders.usernameHeaders, ...rhHeaders.uidHeaders, ...rhHeaders.groupHeaders], prefixes: rhHeaders.extraHeaderPrefixes };
  if (rhPem) {
    const rh = new RequestHeaderAuthenticator({
      clientCA: parsePemBundle(rhPem),
      allowedNames: cfg.requestheaderAllowedNames?.length ? cfg.requestheaderAllowedNames : (published.requestHeader?.allowedNames ?? []),
      usernameHeaders: rhHeaders.usernameHeaders,
      uidHeaders: rhHeaders.uidHeaders,
      groupHeaders: rhHeaders.groupHeaders,
      extraHeaderPrefixes: rhHeaders.extraHeaderPrefixes,
    });
    strip = rh.headerNames;
    authenticators.push(rh);
    clientCAPem.push(rhPem);
  }

  const tokens = new TokenReviewAuthenticator({ post: cfg.post, successTtlMs: cfg.tokenCacheTtlMs, failureTtlMs: cfg.tokenCacheTtlMs });
  authenticators.push(new BearerTokenAuthenticator(tokens), new WebSocketProtocolTokenAuthenticator(tokens));

  const ccPem = cfg.clientCA ? await readFile(cfg.clientCA, 'utf8') : published.clientCAPem;
  if (ccPem) {
    authenticators.push(new ClientCertificateAuthenticator(parsePemBundle(ccPem)));
    clientCAPem.push(ccPem);
  }

  const chain = new AuthenticatorChain(authenticators, { anonymous: cfg.allowAnonymous });
  const sar = new SubjectAccessReviewAuthorizer({ post: cfg.post, allowTtlMs: cfg.authorizedCacheTtlMs, denyTtlMs: cfg.unauthorizedCacheTtlMs });
  return {
    authenticate: (req, incoming) => chain.authenticate(authRequestFrom(req, incoming)),
    authorizer: unionAuthorizer(alwaysAllowPathsAuthorizer(HEALTH_PATHS), privilegedGroupsAuthorizer(['system:masters']), sar),
    strip,
    clientCAPem,
  };
}

/** Whether a header name is one of the front proxy's (case-insensitive). */
export function isStrippedHeader(name: string, strip: GatewayAuth['strip']): boolean {
  const n = name.toLowerCase();
  return strip.exact.some((e) => e.toLowerCase() === n) || strip.prefixes.some((p) => n.startsWith(p.toLowerCase()));
}
