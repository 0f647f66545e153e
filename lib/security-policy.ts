import type { LocalPathPolicy } from './local-path.ts';

/** What tenants may make the server reach and hold, from the flags (see README "Security"). */
export interface SecurityPolicy {
  localPaths: LocalPathPolicy;
  /** Git credentials may go over plain http to hosts other than loopback. */
  allowInsecureGitCredentials: boolean;
  /** Largest package (sum of its files' bytes) and largest pack an upstream fetch may receive. */
  maxPackageBytes: number;
}

export const DEFAULT_MAX_PACKAGE_BYTES = 64 * 1024 * 1024;

/** Dev mode's defaults: local repositories anywhere but the data directory. */
export function defaultSecurityPolicy(dataDir: string): SecurityPolicy {
  return { localPaths: { dataDir }, allowInsecureGitCredentials: false, maxPackageBytes: DEFAULT_MAX_PACKAGE_BYTES };
}
