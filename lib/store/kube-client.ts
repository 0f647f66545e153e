import { existsSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, ServerConfiguration, Watch, type RequestContext } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { apiVersionOf, type ResourceDescriptor } from '../api/resources.ts';
import type { FieldSelector, LabelSelector } from '../api/selectors.ts';
import { errors, StatusError } from '../errors.ts';
import { statusErrorFromNetwork, statusErrorFromResponse } from './kube-status.ts';
import { resourcePath } from './kube-paths.ts';

export { resourcePath };

// A thin JSON client of the Kubernetes API on top of @kubernetes/client-node: the library gives the
// kubeconfig handling (in-cluster service account, files, TLS, tokens that rotate) and the streaming
// watch; the requests themselves are plain paths built from our ResourceDescriptors, because the
// generated typed clients turn timestamps into Date objects and cannot write the status subresource
// of a custom resource generically.

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  method: KubeMethod;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Default application/json for a body. */
  contentType?: string;
  timeoutMs?: number;
}

/** One line of a watch stream, as the API server sends it. */
export interface RawWatchEvent {
  type: string;
  object: unknown;
}

export interface WatchHandle {
  stop(): void;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const DEFAULT_TIMEOUT_MS = 30_000;
/** The agent (TLS settings) is rebuilt now and then, so a rotated CA or client certificate is picked up. */
const AGENT_MAX_AGE_MS = 5 * 60_000;

/** A parsed label selector back in kube-apiserver's syntax. */
export function formatLabelSelector(sel: LabelSelector | undefined): string | undefined {
  if (!sel || sel.length === 0) return undefined;
  return sel
    .map((r) => {
      switch (r.op) {
        case 'eq':
          return `${r.key}=${r.value}`;
        case 'neq':
          return `${r.key}!=${r.value}`;
        case 'in':
          return `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
      }
    })
    .join(',');
}

export function formatFieldSelector(sel: FieldSelector | undefined): string | undefined {
  if (!sel || sel.length === 0) return undefined;
  return sel.map((r) => `${r.field}${r.op === 'neq' ? '!=' : '='}${r.value}`).join(',');
}

export interface KubeClientOptions {
  /** Per-request deadline (watches excepted). */
  timeoutMs?: number;
}

/** The Kubernetes API server cluster mode talks to: its CRDs, Secrets, Namespaces and review APIs. */
export class KubeClient {
  private readonly server: ServerConfiguration<Record<string, string>>;
  readonly serverUrl: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private agent: { value: HttpAgent | HttpsAgent; born: number } | undefined;

  constructor(
    readonly config: KubeConfig,
    opts: KubeClientOptions = {},
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    this.serverUrl = cluster.server.replace(/\/+$/, '');
    this.server = new ServerConfiguration<Record<string, string>>(this.serverUrl, {});
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** From a kubeconfig file (its current context). */
  static fromKubeconfigFile(path: string, opts?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new KubeClient(kc, opts);
  }

  /** From the pod's service account, as every in-cluster client does. */
  static inCluster(opts?: KubeClientOptions): KubeClient {
    if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(SERVICE_ACCOUNT_TOKEN))
      throw new Error('not running in a Kubernetes pod (no KUBERNETES_SERVICE_HOST or service account token); give --cluster-kubeconfig');
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new KubeClient(kc, opts);
  }

  /** Sends one request and resolves to the decoded JSON answer; a failure is the server's Status as a StatusError. */
  async request(req: KubeRequest): Promise<unknown> {
    const ctx = this.server.makeRequestContext(req.path, HttpMethod[req.method]);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, v);
    ctx.setHeaderParam('Accept', 'application/json');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    const what = `${req.method} ${req.path}`;
    let status: number;
    let text: string;
    try {
      await this.config.applySecurityAuthentication(ctx);
      this.reuseAgent(ctx);
      ctx.setSignal(AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs));
      const res = await this.http.send(ctx).toPromise();
      status = res.httpStatusCode;
      text = await res.body.text();
    } catch (err) {
      throw statusErrorFromNetwork(err, what);
    }
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: kept as text, for the error message.
      }
    }
    if (status < 200 || status > 299) throw statusErrorFromResponse(status, body);
    if (typeof body !== 'object' || body === null) throw errors.internal(`${what}: the Kubernetes API server answered with something that is not JSON`);
    return body;
  }

  // Every request would otherwise get a new agent (and a new TLS handshake); the library builds one
  // from the kubeconfig per request, so the first is kept for a while and handed to later requests.
  private reuseAgent(ctx: RequestContext): void {
    const now = Date.now();
    const fresh = ctx.getAgent();
    if (!fresh) return;
    if (!this.agent || now - this.agent.born > AGENT_MAX_AGE_MS) this.agent = { value: fresh, born: now };
    else ctx.setAgent(this.agent.value);
  }

  async getObject(res: ResourceDescriptor, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return (await this.request({ method: 'GET', path: resourcePath(res, namespace, name) })) as KubeObject;
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  async listObjects(
    res: ResourceDescriptor,
    opts: { namespace?: string; labelSelector?: LabelSelector; fieldSelector?: FieldSelector } = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    // Paged, so one huge collection does not have to come in one response.
    do {
      const page = (await this.request({
        method: 'GET',
        path: resourcePath(res, opts.namespace),
        query: {
          labelSelector: formatLabelSelector(opts.labelSelector),
          fieldSelector: formatFieldSelector(opts.fieldSelector),
          limit: '500',
          continue: cont,
        },
      })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of page.items ?? []) {
        // List items come without apiVersion and kind; watch events and gets carry them.
        items.push({ ...item, apiVersion: apiVersionOf(res), kind: res.kind });
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /**
   * Starts a watch from `resourceVersion` (with bookmarks). `onDone` is called once when the stream
   * ends for any reason: undefined for a normal end, else the error (a StatusError when the server
   * refused the watch with an HTTP error, e.g. 410).
   */
  async watch(
    res: ResourceDescriptor,
    resourceVersion: string,
    onEvent: (ev: RawWatchEvent) => void,
    onDone: (err?: unknown) => void,
    opts: { timeoutSeconds?: number } = {},
  ): Promise<WatchHandle> {
    const w = new Watch(this.config);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      onDone(err);
    };
    const query: Record<string, string> = { allowWatchBookmarks: 'true', resourceVersion };
    if (opts.timeoutSeconds) query.timeoutSeconds = String(opts.timeoutSeconds);
    let controller: AbortController;
    try {
      controller = await w.watch(
        resourcePath(res),
        query,
        (type: string, object: unknown) => {
          if (!done) onEvent({ type, object });
        },
        (err: unknown) => finish(err ? watchError(err) : undefined),
      );
    } catch (err) {
      finish(statusErrorFromNetwork(err, `watch ${res.plural}`));
      return { stop: () => undefined };
    }
    if (opts.timeoutSeconds) {
      // The server ends the watch after timeoutSeconds; a connection that silently died never would.
      timer = setTimeout(() => {
        controller.abort();
        finish();
      }, (opts.timeoutSeconds + 30) * 1000);
      timer.unref();
    }
    return {
      stop: () => {
        done = true;
        if (timer) clearTimeout(timer);
        controller.abort();
      },
    };
  }

  /** POSTs a review (TokenReview, SubjectAccessReview) and resolves to the answer: the lib/auth ApiPoster. */
  readonly post = (path: string, body: unknown): Promise<unknown> => this.request({ method: 'POST', path, body });
}

function watchError(err: unknown): unknown {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof code === 'number') return statusErrorFromResponse(code, err instanceof Error ? err.message : '');
  return err;
}
