import { StatusError, errMessage } from '../errors.ts';
import { isRecord } from '../util.ts';
import { DEFAULT_REQUEST_HEADERS } from './requestheader.ts';
import { parsePemBundle } from './x509.ts';

// An aggregated API server learns whom to trust from the cluster itself: kube-apiserver publishes the
// CA of client certificates (--client-ca-file) and of its front proxy, kube-aggregator
// (--requestheader-*), in the ConfigMap kube-system/extension-apiserver-authentication, which every
// extension API server reads at start (the extension-apiserver-authentication-reader Role).

export const EXTENSION_APISERVER_AUTHENTICATION_PATH = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';

export interface RequestHeaderConfig {
  clientCAPem: string;
  allowedNames: string[];
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export interface ExtensionApiserverAuthentication {
  /** PEM of the CA client certificates are checked against (kube-apiserver's --client-ca-file). */
  clientCAPem?: string;
  requestHeader?: RequestHeaderConfig;
}

/** The ConfigMap stores lists as JSON arrays of strings; anything else counts as absent. */
function stringList(v: unknown): string[] | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
  } catch {
    // Not JSON: treated as absent, as a malformed list is in kube-apiserver's reader.
  }
  return undefined;
}

function pem(v: unknown, key: string): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (parsePemBundle(v).length === 0) throw new Error(`extension-apiserver-authentication: ${key} holds no PEM certificate`);
  return v;
}

/** What the ConfigMap's data says; throws on a CA that is not PEM. */
export function parseExtensionApiserverAuthentication(configMap: unknown): ExtensionApiserverAuthentication {
  const data = isRecord(configMap) && isRecord(configMap.data) ? configMap.data : {};
  const out: ExtensionApiserverAuthentication = {};
  const clientCA = pem(data['client-ca-file'], 'client-ca-file');
  if (clientCA) out.clientCAPem = clientCA;
  const rhCA = pem(data['requestheader-client-ca-file'], 'requestheader-client-ca-file');
  if (rhCA) {
    out.requestHeader = {
      clientCAPem: rhCA,
      allowedNames: stringList(data['requestheader-allowed-names']) ?? [],
      usernameHeaders: stringList(data['requestheader-username-headers']) ?? DEFAULT_REQUEST_HEADERS.usernameHeaders,
      uidHeaders: stringList(data['requestheader-uid-headers']) ?? DEFAULT_REQUEST_HEADERS.uidHeaders,
      groupHeaders: stringList(data['requestheader-group-headers']) ?? DEFAULT_REQUEST_HEADERS.groupHeaders,
      extraHeaderPrefixes: stringList(data['requestheader-extra-headers-prefix']) ?? DEFAULT_REQUEST_HEADERS.extraHeaderPrefixes,
    };
  }
  return out;
}

/**
 * Reads the ConfigMap with `get`. A cluster without it (404) simply has nothing to say, as for
 * kube-apiserver's delegating authenticator; any other failure (e.g. 403: the reader Role is not
 * bound) is an error, since serving without the front proxy's CA would refuse every proxied request.
 */
export async function lookupExtensionApiserverAuthentication(get: (path: string) => Promise<unknown>): Promise<ExtensionApiserverAuthentication | undefined> {
  try {
    return parseExtensionApiserverAuthentication(await get(EXTENSION_APISERVER_AUTHENTICATION_PATH));
  } catch (err) {
    if (err instanceof StatusError && err.code === 404) return undefined;
    const why = errMessage(err);
    throw new Error(`reading kube-system/extension-apiserver-authentication failed: ${why} (bind the extension-apiserver-authentication-reader Role, or start with --authentication-skip-lookup)`);
  }
}
