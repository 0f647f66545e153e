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
   * ref; entries whose ref still points at the same commit are reused without reading git again.
   * `fetch: false` lists the local state only (right after our own write, or to serve at start-up
   * before the remote answers).
   */
  listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts?: { fetch?: boolean }): Promise<RevisionListing>;
  /** All files of the package directory at `commit`, keyed by path relative to the package. */
  readResources(commit: string, packagePath: string): Promise<Record<string, string>>;
  /**
   * Write the whole package directory as one commit on ref `ref` (a drafts/ branch).
   * `expectedOld` is the commit the ref must point at now, or null when the ref must not exist yet
   * (the new commit's parent is then the registered branch head, or `baseCommit` when given).
   * Returns the new commit. Throws GitConflictError when the ref moved.
   */
  commitPackage(args: {
    ref: string;
    packagePath: string;
    resources: Record<string, string>;
    message: string;
    author: CommitAuthor;
    expectedOld: string | null;
    baseCommit?: string;
  }): Promise<string>;
  /**
   * Point `to` at `commit` and delete `from` (which must point at `commit`), as one step as far as git
   * allows: the new ref is created first, so a crash leaves both, never neither.
   */
  moveRef(from: string, to: string, commit: string): Promise<void>;
  /**
   * Publish: a merge commit on the registered branch with parents [branch head, sourceCommit] whose tree
   * is the branch tree with the package directory replaced by the source's; tag `tag` at that commit;
   * delete `sourceRef`. Retries when the branch moved meanwhile. Returns the merge commit.
   */
  publish(args: {
    packagePath: string;
    sourceRef: string;
    sourceCommit: string;
    tag: string;
    message: string;
    author: CommitAuthor;
  }): Promise<string>;
  /** Create or move `ref` to `commit` (expectedOld null = must not exist). */
  updateRef(ref: string, commit: string, expectedOld: string | null): Promise<void>;
  /** Delete `ref`, which must point at `expected`. */
  deleteRef(ref: string, expected: string): Promise<void>;
  /** Commit removing the package directory from the registered branch. */
  deletePackageFromBranch(packagePath: string, message: string, author: CommitAuthor): Promise<string>;
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
