import { join } from 'node:path';
import { expect } from 'vitest';
import { kubectl, type KubectlResult } from './dev-server.ts';
import { waitFor } from './wait-for.ts';

// What end-to-end tests do with kubectl against one server, written once: run it, expect success,
// read JSON, publish a draft the way porchctl does, and wait for a Repository to become Ready.

export type Kubectl = (args: string[], input?: string) => Promise<KubectlResult>;
/** Whatever kubectl printed as JSON: tests read the fields they check. */
type Parsed = ReturnType<typeof JSON.parse>;

export interface KubectlSession {
  /** The result, whatever the exit code. */
  k: Kubectl;
  /** Expects success; gives stdout. */
  ok(args: string[], input?: string): Promise<string>;
  /** Expects success of `args -o json`; gives the parsed object. */
  json(args: string[]): Promise<Parsed>;
  /** Proposes a draft, then approves it through the approval subresource; gives the published revision. */
  publish(name: string, namespace?: string): Promise<Parsed>;
  /** Waits until the Repository reports Ready=True. */
  repositoryReady(name: string, namespace?: string): Promise<void>;
}

/** A session over `k` (kubectl with its kubeconfig chosen); `who` names the user in failures. */
export function kubectlSession(k: Kubectl, who?: string): KubectlSession {
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    expect(r.code, `${who ? `${who}: ` : ''}kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
  return {
    k,
    ok,
    json,
    async publish(name, namespace = 'default') {
      // Each step's answer is the object as stored, so no get is needed to see it (a kubectl run each).
      const proposed = await json(['patch', 'packagerevision', name, '-n', namespace, '--type', 'merge', '-p', '{"spec":{"lifecycle":"Proposed"}}']);
      expect(proposed.spec.lifecycle).toBe('Proposed');
      const approval = `/apis/porch.kpt.dev/v1alpha1/namespaces/${namespace}/packagerevisions/${name}/approval`;
      const published = JSON.parse(await ok(['replace', '--raw', approval, '-f', '-'], JSON.stringify({ ...proposed, spec: { ...proposed.spec, lifecycle: 'Published' } })));
      expect(published.spec.lifecycle).toBe('Published');
      return published;
    },
    async repositoryReady(name, namespace = 'default') {
      await waitFor(`repository ${namespace}/${name} ready`, async () => {
        const r = await k(['get', 'repository', name, '-n', namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return r.stdout === 'True' ? true : undefined;
      }, 90_000);
    },
  };
}

/** A session against the server whose kubeconfig `kubeconfig()` names (read per command: a restart may change it). */
export function kubectlAgainst(kubeconfig: () => string, timeoutMs?: number): KubectlSession {
  return kubectlSession((args, input) => kubectl(args, { kubeconfig: kubeconfig(), input, timeoutMs }));
}

/**
 * kubectl as one of several users of a test server: each user has its own kubeconfig (`kubeconfigs`,
 * filled by the test) and discovery cache under `dir()`; `as(user)` is that user's session.
 */
export function kubectlUsers(dir: () => string, kubeconfigs: Record<string, string>) {
  const sessions = new Map<string, KubectlSession>();
  const as = (user: string): KubectlSession => {
    let s = sessions.get(user);
    if (!s) {
      s = kubectlSession((args, input) => kubectl(['--cache-dir', join(dir(), `cache-${user}`), ...args], { kubeconfig: kubeconfigs[user], input }), user);
      sessions.set(user, s);
    }
    return s;
  };
  return { as, k: (user: string, args: string[], input?: string) => as(user).k(args, input), ok: (user: string, args: string[], input?: string) => as(user).ok(args, input) };
}
