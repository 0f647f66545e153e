import type { Lifecycle } from '../api/porch.ts';
import { PORCH_IDENTITY } from './commit.ts';
import { draftRef, publishedTag } from './refs.ts';
import { lifecycleStep } from './lifecycle-step.ts';
import { PlannedWrites } from './planned-writes.ts';
import { IsoGitRepository } from './repository.ts';
import { approvalCommitMessage, deleteCommitMessage, draftCommitMessage } from './trailer.ts';
import type {
  CommitAuthor,
  GitPackageRevision,
  GitRepository,
  GitRepositoryOptions,
  ListingChange,
  NewDraft,
  RevisionListing,
  RevisionRefs,
  TrailerTask,
} from './types.ts';

// Porch's git layout (pkg/externalrepo/git) over the ref-level adapter: which refs each lifecycle
// step writes, and the commit messages and trailers it records. Each step reports what it changed
// in the listing, read from what it wrote.

export class PorchGitRepository implements GitRepository {
  constructor(private readonly refs: IsoGitRepository) {}

  private fullPath(pkg: string): string {
    const dir = this.refs.directory;
    return dir ? `${dir}/${pkg}` : pkg;
  }

  hasLocalState(): boolean {
    return this.refs.hasLocalState();
  }

  open(): Promise<void> {
    return this.refs.open();
  }

  listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts?: { fetch?: boolean }): Promise<RevisionListing> {
    return this.refs.listRevisions(previous, opts);
  }

  readResources(commit: string, packagePath: string): Promise<Record<string, string>> {
    return this.refs.readResources(commit, packagePath);
  }

  private draftMessage(packagePath: string, workspace: string, task: TrailerTask): string {
    return draftCommitMessage({ package: this.fullPath(packagePath), workspaceName: workspace, revision: '0', task });
  }

  /** The entries of refs just written; `removed` are refs just deleted. */
  private async changed(written: { ref: string; commit: string }[], removed: string[] = []): Promise<ListingChange> {
    return { put: await this.refs.describeRefs(written), removed };
  }

  async createDraft(d: NewDraft): Promise<ListingChange> {
    const ref = draftRef(this.refs.directory, d.packagePath, d.workspace);
    const message = this.draftMessage(d.packagePath, d.workspace, d.task);
    const commit = await this.refs.commitPackage({ ref, packagePath: d.packagePath, resources: d.resources, message, author: d.author, expectedOld: null });
    return this.changed([{ ref, commit }]);
  }

  async updateDraft(draft: GitPackageRevision, change: { resources: Record<string, string>; task: TrailerTask; author: CommitAuthor }): Promise<ListingChange> {
    const message = this.draftMessage(draft.packagePath, draft.workspace, change.task);
    const commit = await this.refs.commitPackage({ ref: draft.ref, packagePath: draft.packagePath, resources: change.resources, message, author: change.author, expectedOld: draft.commit });
    return this.changed([{ ref: draft.ref, commit }]);
  }

  async setLifecycle(rev: RevisionRefs, to: Lifecycle): Promise<ListingChange> {
    const g = rev.git;
    const step = lifecycleStep(this.refs.directory, rev, to);
    switch (step?.kind) {
      case 'move':
        return this.move(g, step.to);
      case 'mark':
        await this.refs.updateRef(step.ref, g.commit, null);
        return this.changed([{ ref: step.ref, commit: g.commit }]);
      case 'unmark':
        await this.refs.deleteRef(step.ref, g.commit);
        return this.changed([], [step.ref]);
      default:
        return this.changed([]);
    }
  }

  private async move(g: GitPackageRevision, to: string): Promise<ListingChange> {
    await this.refs.moveRef(g.ref, to, g.commit);
    return this.changed([{ ref: to, commit: g.commit }], [g.ref]);
  }

  async publish(rev: GitPackageRevision, revision: number, author: CommitAuthor): Promise<ListingChange> {
    const tag = publishedTag(this.refs.directory, rev.packagePath, revision);
    const message = approvalCommitMessage(this.fullPath(rev.packagePath), revision, rev.workspace);
    const merge = await this.refs.publish({ packagePath: rev.packagePath, sourceRef: rev.ref, sourceCommit: rev.commit, tag, message, author });
    return { ...(await this.changed([{ ref: tag, commit: merge }], [rev.ref])), branch: await this.branchAt(merge) };
  }

  async deleteRevision(rev: RevisionRefs): Promise<ListingChange> {
    const g = rev.git;
    if (g.kind === 'placeholder') {
      const head = await this.refs.deletePackageFromBranch(g.packagePath, deleteCommitMessage(this.fullPath(g.packagePath)), PORCH_IDENTITY);
      return { put: [], removed: [], branch: head ? await this.branchAt(head) : { commit: '', placeholders: [] } };
    }
    const removed: string[] = [];
    if (rev.deletionRef) {
      await this.refs.deleteRef(rev.deletionRef, g.commit);
      removed.push(rev.deletionRef);
    }
    await this.refs.deleteRef(g.ref, g.commit);
    removed.push(g.ref);
    return this.changed([], removed);
  }

  private async branchAt(head: string): Promise<NonNullable<ListingChange['branch']>> {
    return { commit: head, placeholders: await this.refs.placeholdersAt(head) };
  }

  close(): Promise<void> {
    return this.refs.close();
  }

  planned(): GitRepository {
    return new PlannedWrites(this, this.refs.directory);
  }
}

export function openPorchRepository(opts: GitRepositoryOptions): GitRepository {
  return new PorchGitRepository(new IsoGitRepository(opts));
}
