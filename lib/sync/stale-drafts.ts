import type { RevisionRecord } from '../cache/types.ts';

export interface StaleDraft {
  name: string;
  ref: string;
  /** When the draft branch last moved (its head commit's author time). */
  since: Date;
}

/**
 * Drafts whose branch has not moved for longer than `maxAgeMs`: abandoned work, most likely. They are
 * only reported; deleting a user's draft is the user's decision.
 */
export function findStaleDrafts(records: Iterable<RevisionRecord>, now: number, maxAgeMs: number): StaleDraft[] {
  if (!(maxAgeMs > 0)) return [];
  const out: StaleDraft[] = [];
  for (const r of records) {
    if (r.lifecycle !== 'Draft') continue;
    const movedAt = r.git.author.timestamp * 1000;
    if (now - movedAt > maxAgeMs) out.push({ name: r.name, ref: r.git.ref, since: new Date(movedAt) });
  }
  return out.sort((a, b) => a.since.getTime() - b.since.getTime() || a.name.localeCompare(b.name));
}
