import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Repositories written with the git CLI the way Porch writes them, independent of lib/git, so tests
// read what a real Porch left behind rather than what our own writer produces:
//   - draft/proposed revisions: a commit off the branch head on drafts/<dir>/<pkg>/<ws>, message
//     "<headline>\n\n\nkpt:{…}\n" (Porch adds a newline to the headline before annotating);
//   - approval: a merge commit on the branch, parents [branch head, draft head], message
//     "Approving package revision <pkg>/<N>\n\nkpt:{…}\n", and a lightweight tag <dir>/<pkg>/v<N> on it;
//   - deletion proposal: branch deletionProposed/<dir>/<pkg>/v<N> at the tagged commit.
// Everything goes through plumbing (hash-object, mktree, commit-tree, update-ref) on a bare repository.

export const PORCH = { name: 'Package Orchestration Service', email: 'porch@kpt.dev' };

// Identity for porcelain commands tests run themselves (git commit in a clone); plumbing above sets its own.
const IDENTITY = { GIT_AUTHOR_NAME: 'fixture', GIT_AUTHOR_EMAIL: 'fixture@example.com', GIT_COMMITTER_NAME: 'fixture', GIT_COMMITTER_EMAIL: 'fixture@example.com' };

/** Runs git; the output's final newline is dropped unless `raw`. */
export function git(cwd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; raw?: boolean } = {}): string {
  const out = execFileSync('git', args, {
    cwd,
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, ...IDENTITY, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...opts.env },
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return opts.raw ? out : out.replace(/\n$/, '');
}

/**
 * git without blocking the event loop: needed whenever the other end (a test git server) runs in
 * this same process.
 */
export function gitAsync(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...opts.env }, maxBuffer: 1 << 30 },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout.replace(/\n$/, ''))),
    );
  });
}

export function tempDir(prefix = 'porch-git-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function createBareRepo(path: string, branch = 'main'): string {
  execFileSync('git', ['init', '-q', '--bare', `--initial-branch=${branch}`, path]);
  return path;
}

/** `git fsck --strict` of a repository; throws with git's output when it finds a problem. */
export function fsck(gitdir: string): void {
  git(gitdir, ['fsck', '--strict', '--no-progress', '--no-dangling']);
}

export function kptfile(name: string, description = `${name} package`): string {
  return [
    'apiVersion: kpt.dev/v1',
    'kind: Kptfile',
    'metadata:',
    `  name: ${name}`,
    '  annotations:',
    '    config.kubernetes.io/local-config: "true"',
    'info:',
    `  description: ${description}`,
    '',
  ].join('\n');
}

export function configMap(name: string, value: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
}

/** A minimal package: Kptfile plus one ConfigMap. */
export function packageFiles(pkgPath: string, marker = 'v'): Record<string, string> {
  const name = pkgPath.split('/').pop()!;
  return { Kptfile: kptfile(name), 'cm.yaml': configMap(name, marker) };
}

export interface Annotation {
  package: string;
  workspaceName?: string;
  revision?: string;
  task?: Record<string, unknown>;
}

/** Porch's annotation line: fields in Go struct order, empty ones omitted. */
export function kptAnnotation(a: Annotation): string {
  const o: Record<string, unknown> = { package: a.package };
  if (a.workspaceName) o.workspaceName = a.workspaceName;
  if (a.revision) o.revision = a.revision;
  if (a.task) o.task = a.task;
  return `kpt:${JSON.stringify(o)}`;
}

const HEADLINES: Record<string, string> = {
  init: 'Creating new empty revision',
  clone: 'Creating new revision by cloning',
  edit: 'Creating new revision by copying previous revision',
  upgrade: 'Upgrading revision',
  render: 'Rendering package',
};

/** A draft commit's message as Porch writes it for a change of type `taskType` ("" = no task). */
export function draftMessage(a: Annotation): string {
  const type = typeof a.task?.type === 'string' ? a.task.type : '';
  const headline = type ? (HEADLINES[type] ?? `Intermediate commit: ${type}`) : 'Intermediate commit';
  return `${headline}\n\n\n${kptAnnotation(a)}\n`;
}

export function approvalMessage(fullPath: string, revision: number, workspace: string): string {
  return `Approving package revision ${fullPath}/${revision}\n\n${kptAnnotation({ package: fullPath, workspaceName: workspace, revision: String(revision) })}\n`;
}

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  name: string;
}

export interface Signature {
  name: string;
  email: string;
}

/** Writes Porch-shaped history into a bare repository with git plumbing. */
export class PorchRepoWriter {
  /** Commit timestamps start here and advance a minute per commit, so history order is stable. */
  private clock = 1_700_000_000;
  readonly dir: string;
  readonly branch: string;

  constructor(
    readonly gitdir: string,
    opts: { directory?: string; branch?: string } = {},
  ) {
    this.dir = (opts.directory ?? '').replace(/^\/+|\/+$/g, '');
    this.branch = opts.branch ?? 'main';
  }

  static create(gitdir: string, opts: { directory?: string; branch?: string; initialCommit?: boolean } = {}): PorchRepoWriter {
    createBareRepo(gitdir, opts.branch ?? 'main');
    const w = new PorchRepoWriter(gitdir, opts);
    if (opts.initialCommit !== false) w.initialCommit();
    return w;
  }

  git(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; raw?: boolean } = {}): string {
    return git(this.gitdir, args, opts);
  }

  /**
   * A copy of this repository at `gitdir` and a writer that goes on from where this one is (its clock
   * included): a fixture built once serves every test that needs one of its own to change.
   */
  copyTo(gitdir: string): PorchRepoWriter {
    cpSync(this.gitdir, gitdir, { recursive: true });
    const w = new PorchRepoWriter(gitdir, { directory: this.dir, branch: this.branch });
    w.clock = this.clock;
    return w;
  }

  full(pkg: string): string {
    return this.dir ? `${this.dir}/${pkg}` : pkg;
  }

  resolve(ref: string): string | undefined {
    try {
      return this.git(['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  head(): string | undefined {
    return this.resolve(`refs/heads/${this.branch}`);
  }

  blob(content: string): string {
    return this.git(['hash-object', '-w', '--stdin'], { input: content });
  }

  private entries(tree: string | undefined): TreeEntry[] {
    if (!tree) return [];
    const out = this.git(['ls-tree', tree]);
    if (!out) return [];
    return out.split('\n').map((line) => {
      const tab = line.indexOf('\t');
      const [mode, type, oid] = line.slice(0, tab).split(' ');
      return { mode, type, oid, name: line.slice(tab + 1) };
    });
  }

  private mktree(entries: TreeEntry[]): string {
    return this.git(['mktree'], { input: entries.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.name}\n`).join('') });
  }

  /** A tree of `files` (path → content, nested paths allowed). */
  filesTree(files: Record<string, string>): string {
    const here: TreeEntry[] = [];
    const sub = new Map<string, Record<string, string>>();
    for (const [path, content] of Object.entries(files)) {
      const slash = path.indexOf('/');
      if (slash < 0) here.push({ mode: '100644', type: 'blob', oid: this.blob(content), name: path });
      else {
        const d = path.slice(0, slash);
        sub.set(d, { ...(sub.get(d) ?? {}), [path.slice(slash + 1)]: content });
      }
    }
    for (const [d, f] of sub) here.push({ mode: '040000', type: 'tree', oid: this.filesTree(f), name: d });
    return this.mktree(here);
  }

  /** `root` with the directory at `path` replaced by `tree` (undefined removes it). */
  replaceDir(root: string | undefined, path: string, tree: string | undefined): string {
    const [first, ...rest] = path.split('/').filter(Boolean);
    const entries = this.entries(root).filter((e) => e.name !== first);
    const old = this.entries(root).find((e) => e.name === first && e.type === 'tree');
    const next = rest.length ? this.replaceDir(old?.oid, rest.join('/'), tree) : tree;
    if (next && (rest.length === 0 || this.entries(next).length)) entries.push({ mode: '040000', type: 'tree', oid: next, name: first });
    return this.mktree(entries);
  }

  treeOf(commit: string): string {
    return this.git(['rev-parse', `${commit}^{tree}`]);
  }

  commit(args: { tree: string; parents: string[]; message: string; author?: Signature }): string {
    this.clock += 60;
    const author = args.author ?? PORCH;
    const date = `${this.clock} +0000`;
    return this.git(['commit-tree', args.tree, ...args.parents.flatMap((p) => ['-p', p])], {
      input: args.message,
      env: {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: PORCH.name,
        GIT_COMMITTER_EMAIL: PORCH.email,
        GIT_COMMITTER_DATE: date,
      },
    });
  }

  updateRef(ref: string, oid: string): void {
    this.git(['update-ref', ref, oid]);
  }

  deleteRef(ref: string): void {
    this.git(['update-ref', '-d', ref]);
  }

  /** Porch's createBranch: README.md "Created by porch", "Initial commit: Creating main branch". */
  initialCommit(): string {
    const tree = this.mktree([{ mode: '100644', type: 'blob', oid: this.blob('Created by porch'), name: 'README.md' }]);
    const c = this.commit({ tree, parents: [], message: 'Initial commit: Creating main branch' });
    this.updateRef(`refs/heads/${this.branch}`, c);
    return c;
  }

  /** A commit on the branch that replaces (or with undefined removes) a directory, no annotation. */
  commitOnBranch(path: string, files: Record<string, string> | undefined, message: string, author?: Signature): string {
    const head = this.head();
    const root = this.replaceDir(head ? this.treeOf(head) : undefined, this.full(path), files ? this.filesTree(files) : undefined);
    const c = this.commit({ tree: root, parents: head ? [head] : [], message, author });
    this.updateRef(`refs/heads/${this.branch}`, c);
    return c;
  }

  /** Draft (or proposed) revision: a commit off the branch head (or `base`) on its own branch. */
  /** `task: null` writes a draft with no task (Porch's "Intermediate commit"). */
  draft(pkg: string, workspace: string, opts: { files?: Record<string, string>; task?: Record<string, unknown> | null; kind?: 'drafts' | 'proposed'; base?: string; author?: Signature } = {}): string {
    const base = opts.base ?? this.head();
    const files = opts.files ?? packageFiles(pkg, workspace);
    const root = this.replaceDir(base ? this.treeOf(base) : undefined, this.full(pkg), this.filesTree(files));
    const task = opts.task === null ? undefined : (opts.task ?? { type: 'init', init: { description: `${pkg} package` } });
    const c = this.commit({ tree: root, parents: base ? [base] : [], message: draftMessage({ package: this.full(pkg), workspaceName: workspace, revision: '0', task }), author: opts.author });
    this.updateRef(`refs/heads/${opts.kind ?? 'drafts'}/${this.full(pkg)}/${workspace}`, c);
    return c;
  }

  /** Another commit on an existing draft branch (an update of its resources). */
  amendDraft(pkg: string, workspace: string, files: Record<string, string>, task?: Record<string, unknown>, kind: 'drafts' | 'proposed' = 'drafts'): string {
    const ref = `refs/heads/${kind}/${this.full(pkg)}/${workspace}`;
    const parent = this.resolve(ref)!;
    const root = this.replaceDir(this.treeOf(parent), this.full(pkg), this.filesTree(files));
    const c = this.commit({ tree: root, parents: [parent], message: draftMessage({ package: this.full(pkg), workspaceName: workspace, revision: '0', task }) });
    this.updateRef(ref, c);
    return c;
  }

  /**
   * Approve what is on drafts|proposed/<pkg>/<ws>: merge into the branch, tag v<revision>, delete the
   * source branch. Returns the merge commit.
   */
  approve(pkg: string, workspace: string, revision: number, kind: 'drafts' | 'proposed' = 'proposed', author?: Signature): string {
    const source = `refs/heads/${kind}/${this.full(pkg)}/${workspace}`;
    const draft = this.resolve(source)!;
    const head = this.head();
    const pkgTree = this.git(['rev-parse', `${draft}:${this.full(pkg)}`]);
    const root = this.replaceDir(head ? this.treeOf(head) : undefined, this.full(pkg), pkgTree);
    const merge = this.commit({ tree: root, parents: head ? [head, draft] : [draft], message: approvalMessage(this.full(pkg), revision, workspace), author });
    this.updateRef(`refs/heads/${this.branch}`, merge);
    this.updateRef(`refs/tags/${this.full(pkg)}/v${revision}`, merge);
    this.deleteRef(source);
    return merge;
  }

  /** Draft + approval in one go. */
  publish(pkg: string, workspace: string, revision: number, opts: { files?: Record<string, string>; task?: Record<string, unknown>; author?: Signature } = {}): string {
    this.draft(pkg, workspace, { ...opts, kind: 'proposed' });
    return this.approve(pkg, workspace, revision, 'proposed', opts.author);
  }

  proposeDeletion(pkg: string, revision: number): string {
    const c = this.resolve(`refs/tags/${this.full(pkg)}/v${revision}`)!;
    this.updateRef(`refs/heads/deletionProposed/${this.full(pkg)}/v${revision}`, c);
    return c;
  }

  /** A tag written by hand (no kpt annotation on the commit); `annotated` makes a tag object. */
  tag(name: string, commit: string, annotated = false): void {
    if (annotated)
      this.git(['tag', '-a', '-m', `release ${name}`, name, commit], {
        env: { GIT_COMMITTER_NAME: 'someone', GIT_COMMITTER_EMAIL: 'someone@example.com' },
      });
    else this.updateRef(`refs/tags/${name}`, commit);
  }
}

export interface BulkShape {
  packages: number;
  revisions: number;
  /** The first `drafts` packages also get a draft, workspace "draft". */
  drafts?: number;
  directory?: string;
  /** Leave every ref loose, as fast-import writes them (default: packed). */
  looseRefs?: boolean;
}

export function bulkPackagePath(i: number): string {
  return `group${String(Math.floor(i / 100)).padStart(2, '0')}/pkg${String(i).padStart(4, '0')}`;
}

/**
 * A large Porch-shaped repository in one `git fast-import` run: for each revision round, each package
 * gets a draft commit off main and an approval merge tagged <pkg>/v<n>; then drafts. Refs end up packed
 * unless `looseRefs`.
 */
export function bulkPorchRepo(gitdir: string, shape: BulkShape): void {
  createBareRepo(gitdir);
  const dir = (shape.directory ?? '').replace(/^\/+|\/+$/g, '');
  const full = (p: string) => (dir ? `${dir}/${p}` : p);
  const stream = new FastImport();
  let main = stream.commit('refs/heads/main', 'Initial commit: Creating main branch', { files: { 'README.md': 'Created by porch' } });
  const files = (p: string, n: number) => {
    const name = p.split('/').pop()!;
    return { [`${full(p)}/Kptfile`]: kptfile(name, `${name} revision ${n}`), [`${full(p)}/cm.yaml`]: configMap(name, String(n)) };
  };
  for (let n = 1; n <= shape.revisions; n++) {
    for (let i = 0; i < shape.packages; i++) {
      const p = bulkPackagePath(i);
      const ws = `ws${n}`;
      const task = n === 1 ? { type: 'init', init: { description: p } } : { type: 'edit', edit: { sourceRef: { name: `repo.${p.replace(/\//g, '.')}.ws${n - 1}` } } };
      const d = stream.commit('refs/heads/fixture-tmp', draftMessage({ package: full(p), workspaceName: ws, revision: '0', task }), { from: main, files: files(p, n) });
      main = stream.commit('refs/heads/main', approvalMessage(full(p), n, ws), { from: main, merge: d, files: files(p, n) });
      stream.reset(`refs/tags/${full(p)}/v${n}`, main);
    }
  }
  for (let i = 0; i < (shape.drafts ?? 0); i++) {
    const p = bulkPackagePath(i);
    stream.commit(`refs/heads/drafts/${full(p)}/draft`, draftMessage({ package: full(p), workspaceName: 'draft', revision: '0', task: { type: 'edit', edit: {} } }), { from: main, files: files(p, 99) });
  }
  stream.run(gitdir);
  git(gitdir, ['update-ref', '-d', 'refs/heads/fixture-tmp']);
  if (!shape.looseRefs) git(gitdir, ['pack-refs', '--all']);
}

/**
 * Commits, branches and tags written into a repository by one `git fast-import` run: far cheaper than a
 * git process per object. Marks stand for the commits until then (a commit already in the repository
 * is named by its object id); refs are written loose.
 */
export class FastImport {
  private readonly out: string[] = [];
  private mark = 0;

  constructor(
    private readonly author: Signature = PORCH,
    /** Commit timestamps start here and advance a second per commit. */
    private time = 1_700_000_000,
  ) {}

  /** A commit on `ref`: its parent's tree (none without `from`), or an empty one with `replace`, plus `files`. Returns its mark. */
  commit(ref: string, message: string, opts: { from?: number | string; merge?: number | string; files?: Record<string, string>; replace?: boolean } = {}): number {
    const m = ++this.mark;
    this.time += 1;
    const sig = (who: string) => `${who} ${this.author.name} <${this.author.email}> ${this.time} +0000\n`;
    this.out.push(`commit ${ref}\nmark :${m}\n${sig('author')}${sig('committer')}${data(message)}`);
    if (opts.from !== undefined) this.out.push(`from ${commitish(opts.from)}\n`);
    if (opts.merge !== undefined) this.out.push(`merge ${commitish(opts.merge)}\n`);
    if (opts.replace) this.out.push('deleteall\n');
    for (const [p, c] of Object.entries(opts.files ?? {})) this.out.push(`M 100644 inline ${p}\n${data(c)}`);
    this.out.push('\n');
    return m;
  }

  /** Point `ref` (a tag, say) at a commit. */
  reset(ref: string, commit: number | string): void {
    this.out.push(`reset ${ref}\nfrom ${commitish(commit)}\n\n`);
  }

  run(gitdir: string): void {
    git(gitdir, ['fast-import', '--quiet', '--force'], { input: this.out.join('') });
  }
}

function commitish(c: number | string): string {
  return typeof c === 'number' ? `:${c}` : c;
}

function data(s: string): string {
  return `data ${Buffer.byteLength(s)}\n${s}\n`;
}

export interface FixturePackage {
  path: string;
  /** Published revisions: each a proposed commit approved into main and tagged <path>/v<N>. */
  revisions: number;
  /** Draft branches (workspace names) left unpublished; each adds draft.yaml to the last revision. */
  drafts?: string[];
}

/**
 * `<dir>/<name>.git`, a bare repository with the given packages in Porch's layout: revision N of a
 * package is workspace v<N> with Kptfile ("<pkg> revision <N>") and cm.yaml (data.revision "<N>"); the
 * first revision records an init task, later ones an edit of the previous revision.
 */
export function porchRepo(dir: string, name: string, packages: FixturePackage[]): string {
  const w = PorchRepoWriter.create(join(dir, `${name}.git`));
  for (const p of packages) {
    const base = p.path.split('/').pop()!;
    const files = (n: number) => ({
      Kptfile: kptfile(base, `${base} revision ${n}`),
      'cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${base}\ndata:\n  revision: "${n}"\n`,
    });
    for (let n = 1; n <= p.revisions; n++) {
      const task = n === 1 ? { type: 'init', init: { description: `${base} description` } } : { type: 'edit', edit: { sourceRef: { name: `${name}.${p.path.replace(/\//g, '.')}.v${n - 1}` } } };
      w.publish(p.path, `v${n}`, n, { files: files(n), task });
    }
    for (const ws of p.drafts ?? []) {
      const draft = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${ws}\n`;
      w.draft(p.path, ws, { files: { ...(p.revisions ? files(p.revisions) : {}), 'draft.yaml': draft }, task: null });
    }
  }
  return w.gitdir;
}
