import type { DevServer } from '../support/dev-server.ts';

// Plain HTTP against a dev server, as the robustness tests drive it: raw requests (so malformed ones
// can be sent), the Repository they all register, and waiting for it to be served.

export const PORCH = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
export const CONFIG = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default';

export interface Reply {
  status: number;
  text: string;
}

export function client(server: () => DevServer) {
  const req = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> => {
    const res = await fetch(`${server().url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  /** Register Repository "blue" for `repo` (a path or URL). */
  const registerBlue = async (repo: string): Promise<Reply> =>
    req('POST', `${CONFIG}/repositories`, {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name: 'blue', namespace: 'default' },
      spec: { type: 'git', git: { repo, branch: 'main' } },
    });

  /** Until `name` is served: the repository is loaded (also after a restart). */
  const waitServed = async (name: string, timeoutMs = 90_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await req('GET', `${PORCH}/packagerevisions/${name}`).catch(() => ({ status: 0, text: '' }));
      if (r.status === 200) return;
      if (Date.now() > deadline) throw new Error(`${name} was not served within ${timeoutMs} ms: ${r.text}\n${server().output().stderr.slice(-2000)}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  };

  const createDraft = (pkg: string, ws: string) =>
    req('POST', `${PORCH}/packagerevisions`, {
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevision',
      metadata: { namespace: 'default' },
      spec: { repository: 'blue', packageName: pkg, workspaceName: ws },
    });

  return { req, registerBlue, waitServed, createDraft };
}
