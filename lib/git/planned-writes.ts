import type { Lifecycle } from '../api/porch.ts';
import { FIRST_TASK_TYPES } from './history.ts';
import { lifecycleStep } from './lifecycle-step.ts';
import { revisionKey } from './listing.ts';
import { draftRef, publishedTag } from './refs.ts';
import type { CommitAuthor, GitPackageRevision, GitRepository, ListingChange, NewDraft, RevisionListing, RevisionRefs, TrailerTask } from './types.ts';

// A dry run's git: every write answers the listing change the real write would report, and nothing
// is written (no object, no ref). A commit it would make has no name yet, so it gets a local one
// ("planned:N") whose files later reads in the same dry run see; a publish's merge commit is "".

export class PlannedWrites implements GitRepository {
  private readonly contents = new Map<string, Record<string, string>>();

  constructor(
    private readonly real: GitRepository,
    private readonly dir: string,
  ) {}

  hasLocalState(): boolean {
    return this.real.hasLocalState();
  }

  /** Nothing to open: the real repository is open. */
  async open(): Promise<void> {}

  listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts?: { fetch?: boolean }): Promise<RevisionListing> {
    // Never a fetch: that would move the mirror's refs.
    return this.real.listRevisions(previous, { ...opts, fetch: false });
  }

  async readResources(commit: string, packagePath: string): Promise<Record<string, string>> {
    const planned = this.contents.get(commit);
    return planned ? { ...planned } : this.real.readResources(commit, packagePath);
  }

  /** A commit of `resources` as it would be written now. */
  private commit(resources: Record<string, string>): string {
    const name = `planned:${this.contents.size + 1}`;
    this.contents.set(name, { ...resources });
    return name;
  }

  private static signature(author: CommitAuthor) {
    return { name: author.name, email: author.email, timestamp: Math.floor(Date.now() / 1000) };
  }

  async createDraft(d: NewDraft): Promise<ListingChange> {
    const entry: GitPackageRevision = {
      kind: 'draft',
      packagePath: d.packagePath,
      workspace: d.workspace,
      revision: 0,
      ref: draftRef(this.dir, d.packagePath, d.workspace),
      commit: this.commit(d.resources),
      tree: '',
      kptfile: d.resources.Kptfile ?? '',
      // The draft's first commit is the only one annotated for it: its task, if one that starts a revision.
      tasks: FIRST_TASK_TYPES.has(d.task.type) ? [d.task] : [],
      author: PlannedWrites.signature(d.author),
    };
    return { put: [entry], removed: [] };
  }

  async updateDraft(draft: GitPackageRevision, change: { resources: Record<string, string>; task: TrailerTask; author: CommitAuthor }): Promise<ListingChange> {
    const entry: GitPackageRevision = {
      ...draft,
      commit: this.commit(change.resources),
      tree: '',
      kptfile: change.resources.Kptfile ?? '',
      author: PlannedWrites.signature(change.author),
    };
    return { put: [entry], removed: [] };
  }

  async setLifecycle(rev: RevisionRefs, to: Lifecycle): Promise<ListingChange> {
    const g = rev.git;
    const step = lifecycleStep(this.dir, rev, to);
    switch (step?.kind) {
      case 'move':
        return { put: [{ ...g, kind: to === 'Proposed' ? 'proposed' : 'draft', ref: step.to }], removed: [revisionKey(g)] };
      case 'mark':
        return { put: [{ ...g, kind: 'deletionProposed', ref: step.ref }], removed: [] };
      case 'unmark':
        return { put: [], removed: [step.ref] };
      default:
        return { put: [], removed: [] };
    }
  }

  async publish(rev: GitPackageRevision, revision: number, author: CommitAuthor): Promise<ListingChange> {
    // The registered branch's placeholders are left as they are: what a publish answers does not show them.
    const tag: GitPackageRevision = { ...rev, kind: 'published', revision, ref: publishedTag(this.dir, rev.packagePath, revision), commit: '', author: PlannedWrites.signature(author) };
    return { put: [tag], removed: [revisionKey(rev)] };
  }

  async deleteRevision(rev: RevisionRefs): Promise<ListingChange> {
    // The branch placeholder's deletion would be a commit on the branch; its answer is the revision as it was.
    if (rev.git.kind === 'placeholder') return { put: [], removed: [] };
    return { put: [], removed: [...(rev.deletionRef ? [rev.deletionRef] : []), rev.git.ref] };
  }

  planned(): GitRepository {
    return this;
  }

  /** The real repository is not this one's to close. */
  async close(): Promise<void> {}
}
