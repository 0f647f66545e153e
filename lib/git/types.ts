import type { Lifecycle } from '../api/porch.ts';

// The contract between the CaD engine and git. Everything git-shaped (refs, commits, trailers, remotes)
// stays behind this interface so the engine only speaks in package revisions.

export type GitAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string };

export interface GitRepositoryOptions {
  /** http(s):// URL, file:// URL, or an absolute path to a bare repository. */
  url: string;
  /** The registered (deployment) branch; Porch's default is "main". */
  branch: string;
  /** Package root inside the repository; "" or "/" means the top. */
  directory: string;
  /** Create the branch (README.md + "Initial commit: Creating main branch") when it is missing. */
  createBranch: boolean;
  auth?: GitAuth;
  /** PEM CA bundle for https remotes. */
  caBundle?: string;
  /** A directory this repository may own (a local mirror of a remote is kept here). */
  workDir: string;
  /** Per network operation. */
  timeoutMs?: number;
}

export interface GitSignature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

export type RevisionRefKind = 'draft' | 'proposed' | 'published' | 'deletionProposed' | 'placeholder';

/** The task object carried in a commit's kpt trailer, kept opaque here. */
export type TrailerTask = Record<string, unknown> & { type: string };

export interface GitPackageRevision {
  kind: RevisionRefKind;
  /** Package path relative to the repository directory, e.g. "net/basens". */
  packagePath: string;
  workspace: string;
  /** 0 for draft/proposed, N for published/deletionProposed, -1 for the branch placeholder. */
  revision: number;
  /** Full ref name, e.g. refs/heads/drafts/net/basens/ws1 or refs/tags/net/basens/v1. */
  ref: string;
  /** The commit the ref points to (tags peeled). */
  commit: string;
  /** Tree sha of the package directory at that commit: equal trees mean equal content. */
  tree: string;
  /** Raw Kptfile text of the package at that commit. */
  kptfile: string;
  /** Tasks from the newest kpt trailer in the package's history carrying an init/clone/edit/upgrade task. */
  tasks: TrailerTask[];
  /** Author of `commit` (for a tag: publishedBy / publishTimestamp). */
  author: GitSignature;
}

export interface RevisionListing {
  revisions: GitPackageRevision[];
  /** Head of the registered branch after the fetch ("" when the branch does not exist). */
  branchCommit: string;
}

export interface CommitAuthor {
  name: string;
  email: string;
}

/** A new draft: its package, workspace and files, and the task its first commit records. */
export interface NewDraft {
  packagePath: string;
  workspace: string;
  resources: Record<string, string>;
  task: TrailerTask;
  author: CommitAuthor;
}

/** A revision as a lifecycle step finds it: its listing entry, and the deletionProposed branch marking it. */
export interface RevisionRefs {
  git: GitPackageRevision;
  deletionRef?: string;
}

/**
 * What a write changed in the listing, read from what it wrote, so whoever holds the listing can
 * bring it up to date without listing the repository again.
 */
export interface ListingChange {
  /** Entries of refs the write created or moved. */
  put: GitPackageRevision[];
  /** Keys (revisionKey) of entries that are gone. */
  removed: string[];
  /** The registered branch moved: its new head and every placeholder it now holds. */
  branch?: { commit: string; placeholders: GitPackageRevision[] };
}

/**
 * A Porch repository as the cache sees it: listings, reads, and writes named by lifecycle step. Ref
 * names, tags and commit messages stay behind it; each step is one call.
 */
export interface GitRepository {
  /**
   * Whether a listing can be served without the network: a local repository, or a remote one whose
   * mirror was fetched before (say, by an earlier run of the server).
   */
  hasLocalState(): boolean;
  /** Check the remote is reachable and the branch exists (or create it when createBranch). */
  open(): Promise<void>;
  /**
   * Fetch (for a remote) and list every package revision. `previous` is the last listing keyed by
   * revisionKey; entries whose ref still points at the same commit are reused without reading git again.
   * `fetch: false` lists the local state only (to serve at start-up before the remote answers).
   */
  listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts?: { fetch?: boolean }): Promise<RevisionListing>;
  /** All files of the package directory at `commit`, keyed by path relative to the package. */
  readResources(commit: string, packagePath: string): Promise<Record<string, string>>;
  /** A new draft whose first commit's parent is the branch head. GitConflictError when the workspace's draft exists. */
  createDraft(draft: NewDraft): Promise<ListingChange>;
  /** Replace a draft's whole package directory in one commit recording `task`. GitConflictError when the draft moved. */
  updateDraft(draft: GitPackageRevision, change: { resources: Record<string, string>; task: TrailerTask; author: CommitAuthor }): Promise<ListingChange>;
  /**
   * The steps that only move refs: Draft ↔ Proposed, Published ↔ DeletionProposed. A step the
   * revision is already at changes nothing.
   */
  setLifecycle(rev: RevisionRefs, to: Lifecycle): Promise<ListingChange>;
  /**
   * Publish a proposed revision as `revision`: a merge commit on the registered branch, the tag, and
   * the proposed branch deleted. Retries when the branch moved meanwhile.
   */
  publish(rev: GitPackageRevision, revision: number, author: CommitAuthor): Promise<ListingChange>;
  /** Delete a revision's refs; for the branch placeholder, a commit removing the package from the branch. */
  deleteRevision(rev: RevisionRefs): Promise<ListingChange>;
  /**
   * This repository for a dry run: reads as here, writes answered with the listing change they would
   * make, and nothing written.
   */
  planned(): GitRepository;
  close(): Promise<void>;
}

/** The ref a caller expected moved underneath it (maps to 409 Conflict). */
export class GitConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitConflictError';
  }
}

/** A ref (or packed-refs) is locked by another writer right now: retry, nothing was decided. */
export class GitLockedError extends GitConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'GitLockedError';
  }
}

/** The remote could not be reached, or refused our credentials (maps to 503 / Ready=False). */
export class GitUnavailableError extends Error {
  constructor(message: string, readonly authFailed = false) {
    super(message);
    this.name = 'GitUnavailableError';
  }
}
