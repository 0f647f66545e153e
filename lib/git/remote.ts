import nodeHttp from 'node:http';
import https from 'node:https';
import type { AuthCallback, GitHttpResponse, HttpClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { adviseHead, isAdvertisement, once } from './unborn-head.ts';
import { GitConflictError, GitUnavailableError, type GitAuth } from './types.ts';

// The network side of a remote repository: one HTTP client (keep-alive agent, optional CA bundle),
// credentials, a deadline per operation, and the mapping of isomorphic-git's errors onto the two the
// engine understands: GitConflictError (the remote moved; retry after a fetch) and
// GitUnavailableError (the remote cannot be used right now; authFailed when it refused credentials).

export interface RemoteSettings {
  url: string;
  auth?: GitAuth;
  caBundle?: string;
  timeoutMs?: number;
}

/** What every isomorphic-git network call receives. */
export interface NetOptions {
  url: string;
  http: HttpClient;
  headers: Record<string, string>;
  onAuth?: AuthCallback;
}

export const ZERO = '0000000000000000000000000000000000000000';
const DEFAULT_TIMEOUT_MS = 60_000;

interface IsoError {
  code?: string;
  message?: string;
  data?: { statusCode?: number; statusMessage?: string; reason?: string; result?: { ok?: boolean; refs?: Record<string, { ok: boolean; error?: string }> } };
  cause?: unknown;
}

/**
 * What a call does with the upload-pack advertisement: `keep` it, or `reuse` the kept one instead of
 * asking again (a listing followed by a fetch then costs one advertisement, as for git itself).
 */
export type AdvertisementUse = 'keep' | 'reuse';

interface KeptAdvertisement {
  url: string;
  res: Omit<GitHttpResponse, 'body'>;
  body: Buffer;
}

export class Remote {
  private readonly agent: nodeHttp.Agent;
  readonly timeoutMs: number;
  private advertisement: KeptAdvertisement | undefined;

  constructor(readonly settings: RemoteSettings) {
    const secure = settings.url.startsWith('https:');
    this.agent = secure ? new https.Agent({ keepAlive: true, ca: settings.caBundle || undefined }) : new nodeHttp.Agent({ keepAlive: true });
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private options(signal: AbortSignal, use?: AdvertisementUse): NetOptions {
    const headers: Record<string, string> = {};
    const auth = this.settings.auth;
    // Credentials go with the first request (as go-git sends them) instead of after a 401 round trip.
    if (auth?.kind === 'bearer') headers.Authorization = `Bearer ${auth.token}`;
    if (auth?.kind === 'basic') headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const agent = this.agent;
    return {
      url: this.settings.url,
      headers,
      http: {
        request: async (req) => {
          const kept = this.advertisement;
          if (use === 'reuse' && kept && kept.url === req.url && req.method === 'GET') return { ...kept.res, body: once(kept.body) };
          const { whole, ...res } = await adviseHead(req.url, await http.request({ ...req, agent, signal }));
          if (use === 'keep' && whole && isAdvertisement(req.url)) {
            const { body: _, ...head } = res;
            this.advertisement = { url: req.url, res: head, body: whole };
          }
          return res;
        },
      },
      // Without onAuthFailure a second 401 surfaces as HttpError(401), which maps to authFailed.
      onAuth: auth?.kind === 'basic' ? () => ({ username: auth.username, password: auth.password }) : undefined,
    };
  }

  /**
   * Run one network operation with a deadline: requests are aborted when it passes, and the caller
   * is released even if isomorphic-git is still busy with local work at that moment.
   */
  async call<T>(what: string, fn: (o: NetOptions) => Promise<T>, use?: AdvertisementUse): Promise<T> {
    const ctl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctl.abort();
        reject(new GitUnavailableError(`${what} ${this.settings.url}: timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    const op = fn(this.options(ctl.signal, use));
    // A late rejection after the deadline won must not become an unhandled rejection.
    op.catch(() => undefined);
    try {
      return await Promise.race([op, deadline]);
    } catch (err) {
      throw mapNetError(what, this.settings.url, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Let go of the kept advertisement (thousands of refs for a large repository). */
  forgetAdvertisement(): void {
    this.advertisement = undefined;
  }

  close(): void {
    this.advertisement = undefined;
    this.agent.destroy();
  }
}

function describe(err: IsoError): string {
  return err.message ?? String(err);
}

export function mapNetError(what: string, url: string, raw: unknown): Error {
  if (raw instanceof GitConflictError || raw instanceof GitUnavailableError) return raw;
  const err = (raw ?? {}) as IsoError;
  const where = `${what} ${url}`;
  switch (err.code) {
    case 'HttpError': {
      const status = err.data?.statusCode ?? 0;
      if (status === 401 || status === 403)
        return new GitUnavailableError(`${where}: authentication failed (HTTP ${status}); check the credentials in the Repository's secretRef`, true);
      return new GitUnavailableError(`${where}: HTTP ${status} ${err.data?.statusMessage ?? ''}`.trim());
    }
    case 'PushRejectedError':
      return new GitConflictError(`${where}: push rejected (${err.data?.reason ?? 'rejected'})`);
    case 'GitPushError': {
      const result = err.data?.result;
      if (result && result.ok === false) return new GitUnavailableError(`${where}: the remote could not store the pushed objects: ${describe(err)}`);
      const why = Object.entries(result?.refs ?? {})
        .filter(([, r]) => !r.ok)
        .map(([ref, r]) => `${ref}: ${r.error ?? 'rejected'}`)
        .join('; ');
      return new GitConflictError(`${where}: the remote refused the update (${why || describe(err)})`);
    }
    case 'SmartHttpError':
      return new GitUnavailableError(`${where}: not a git smart-HTTP endpoint`);
    case 'UserCanceledError':
      return new GitUnavailableError(`${where}: authentication was cancelled`, true);
    case 'ABORT_ERR':
      return new GitUnavailableError(`${where}: aborted (timed out)`);
    default: {
      const name = (raw as { name?: string } | undefined)?.name;
      if (name === 'AbortError') return new GitUnavailableError(`${where}: aborted (timed out)`);
      return new GitUnavailableError(`${where}: ${describe(err)}`);
    }
  }
}
