import type { RenderStatus } from './render-step.ts';

/** Revisions whose last renderStatus is remembered; drafts beyond that show none. */
const MAX_ENTRIES = 10_000;

/**
 * The last renderStatus of each draft, for `get packagerevisionresources` after the write that
 * rendered it. Kept in memory only (a restart forgets it; the rendered files are in git) and tied
 * to the commit it describes, so a draft changed since (another server, a push to git) shows none.
 */
export class RenderStatusMemory {
  private readonly entries = new Map<string, { commit: string; status: RenderStatus }>();

  remember(namespace: string, name: string, commit: string, status: RenderStatus): void {
    const key = `${namespace}/${name}`;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { commit, status });
  }

  recall(namespace: string, name: string, commit: string): RenderStatus | undefined {
    const e = this.entries.get(`${namespace}/${name}`);
    return e && e.commit === commit ? e.status : undefined;
  }
}
