import type { Repository } from '../api/repository.ts';
import { errMessage } from '../errors.ts';
import { findResource } from '../api/resources.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';

const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;

/** Who wants to hear about every Repository: the sync planner. */
export interface RepositorySink {
  upsert(repo: Repository): void;
  remove(namespace: string, name: string): void;
  keys(): string[];
}

/**
 * Keep `sink` in step with the Repositories in the store: list, then watch from the list's
 * resourceVersion. When the watch ends with an error (e.g. 410 Gone from a kube-apiserver), list
 * again after `retryMs`, dropping repositories deleted meanwhile. Returns a function that stops it.
 */
export async function followRepositories(store: Store, sink: RepositorySink, log: Logger, retryMs = 1000): Promise<() => void> {
  let stopped = false;
  let unwatch: (() => void) | undefined;
  let retry: NodeJS.Timeout | undefined;

  const resync = async (): Promise<void> => {
    const { items, resourceVersion } = await store.list(REPOSITORIES);
    if (stopped) return;
    const present = new Set<string>();
    for (const obj of items) {
      const repo = obj as Repository;
      present.add(`${repo.metadata.namespace ?? 'default'}/${repo.metadata.name ?? ''}`);
      sink.upsert(repo);
    }
    for (const k of sink.keys()) {
      if (present.has(k)) continue;
      const slash = k.indexOf('/');
      sink.remove(k.slice(0, slash), k.slice(slash + 1));
    }
    unwatch = store.watch(REPOSITORIES, {
      resourceVersion,
      send: (ev) => {
        const repo = ev.object as Repository;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') sink.upsert(repo);
        else if (ev.type === 'DELETED') sink.remove(repo.metadata.namespace ?? 'default', repo.metadata.name ?? '');
        else if (ev.type === 'ERROR') restart();
      },
    });
  };

  const restart = (): void => {
    unwatch?.();
    unwatch = undefined;
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      resync().catch((err: unknown) => {
        log.warn('could not list repositories for sync scheduling; retrying', { error: errMessage(err) });
        restart();
      });
    }, retryMs);
    retry.unref();
  };

  await resync();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    unwatch?.();
  };
}
