import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Benchmark fixtures in Porch's git layout (as porchRepo in tests/support/git-fixtures.ts writes them), produced
// with one `git fast-import` stream per repository so thousands of revisions take seconds, not hours:
//   main: "Initial commit" with README.md, then per package and revision a draft commit (kpt trailer
//         with an init/edit task) off main, merged into main as "Approving package revision <p>/<n>"
//         (parents: main, draft) and tagged <p>/v<n>;
//   drafts/<p>/<ws>: an "Intermediate commit" off main adding draft.yaml.
// Refs are packed afterwards, as on a git server after gc.

const ENV = { GIT_AUTHOR_NAME: 'fixture', GIT_AUTHOR_EMAIL: 'fixture@example.com', GIT_COMMITTER_NAME: 'fixture', GIT_COMMITTER_EMAIL: 'fixture@example.com' };
const SIGNATURE = 'fixture <fixture@example.com>';
const TMP_BRANCH = 'refs/heads/bench-fixture-tmp';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...ENV }, maxBuffer: 1 << 30 }).trim();
}

/** Run git with `input` on stdin; resolves with stdout. */
export function gitWithInput(cwd: string, args: string[], input: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...process.env, ...ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
    });
    child.stdin.end(input);
  });
}

export function kptfileText(name: string, description: string): string {
  return `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n  annotations:\n    config.kubernetes.io/local-config: "true"\ninfo:\n  description: ${description}\n`;
}

function configMap(name: string, revision: number): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  revision: "${revision}"\n`;
}

function trailer(pkg: string, ws: string, revision: number, task?: object): string {
  return `kpt:${JSON.stringify({ package: pkg, workspaceName: ws, revision: String(revision), ...(task ? { task } : {}) })}`;
}

export interface RepoShape {
  /** Packages, named g<group>/p<index> (50 to a group directory). */
  packages: number;
  /** Published revisions per package. */
  revisions: number;
  /** Packages (the first ones) that also have one unpublished draft, workspace "draft1". */
  drafts: number;
  /** Distinguishes package names of different repositories. */
  prefix?: string;
}

export function packagePath(shape: Pick<RepoShape, 'prefix'>, i: number): string {
  const g = String(Math.floor(i / 50)).padStart(2, '0');
  return `${shape.prefix ?? ''}g${g}/p${String(i).padStart(4, '0')}`;
}

/** Revisions the server lists for a repository of this shape: tags, drafts and one placeholder per package. */
export function expectedRevisions(shape: RepoShape): number {
  return shape.packages * shape.revisions + shape.drafts + shape.packages;
}

/** Accumulates a fast-import stream. */
class Stream {
  private readonly parts: string[] = [];
  private mark = 0;
  time = 1_700_000_000;

  nextMark(): number {
    return ++this.mark;
  }

  data(text: string): void {
    this.parts.push(`data ${Buffer.byteLength(text)}\n${text}\n`);
  }

  blob(content: string): number {
    const m = this.nextMark();
    this.parts.push(`blob\nmark :${m}\n`);
    this.data(content);
    return m;
  }

  commit(args: { ref: string; message: string; from?: string; merge?: string; files: [string, number][] }): number {
    const m = this.nextMark();
    const t = this.time++;
    this.parts.push(`commit ${args.ref}\nmark :${m}\nauthor ${SIGNATURE} ${t} +0000\ncommitter ${SIGNATURE} ${t} +0000\n`);
    this.data(args.message);
    if (args.from) this.parts.push(`from ${args.from}\n`);
    if (args.merge) this.parts.push(`merge ${args.merge}\n`);
    for (const [path, blob] of args.files) this.parts.push(`M 100644 :${blob} ${path}\n`);
    this.parts.push('\n');
    return m;
  }

  reset(ref: string, from: string): void {
    this.parts.push(`reset ${ref}\nfrom ${from}\n\n`);
  }

  text(): string {
    return this.parts.join('');
  }
}

/**
 * One published revision: draft commit off `mainFrom`, merge into main, tag. Returns the merge mark.
 * With `refs`, the tag is recorded there (to be written into packed-refs) instead of created by fast-import.
 */
function publishRevision(s: Stream, repoName: string, pkg: string, n: number, mainFrom: string, refs?: Map<string, number>): number {
  const base = pkg.split('/').pop()!;
  const ws = `v${n}`;
  const k = s.blob(kptfileText(base, `${base} revision ${n}`));
  const cm = s.blob(configMap(base, n));
  const files: [string, number][] = [
    [`${pkg}/Kptfile`, k],
    [`${pkg}/cm.yaml`, cm],
  ];
  const task = n === 1 ? { type: 'init', init: { description: `${base} description` } } : { type: 'edit', edit: { sourceRef: { name: `${repoName}.${pkg.replace(/\//g, '.')}.v${n - 1}` } } };
  const draft = s.commit({ ref: TMP_BRANCH, message: `Creating new revision\n\n${trailer(pkg, ws, 0, task)}\n`, from: mainFrom, files });
  const merge = s.commit({ ref: 'refs/heads/main', message: `Approving package revision ${pkg}/${n}\n\n${trailer(pkg, ws, n)}\n`, from: mainFrom, merge: `:${draft}`, files });
  if (refs) refs.set(`refs/tags/${pkg}/v${n}`, merge);
  else s.reset(`refs/tags/${pkg}/v${n}`, `:${merge}`);
  return merge;
}

/** A bare repository `<dir>/<name>.git` of the given shape. */
export async function buildRepo(dir: string, name: string, shape: RepoShape): Promise<string> {
  const bare = join(dir, `${name}.git`);
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
  const s = new Stream();
  const readme = s.blob(`# ${name}\n`);
  let head = `:${s.commit({ ref: 'refs/heads/main', message: 'Initial commit\n', files: [['README.md', readme]] })}`;
  // Tags and draft branches go straight into packed-refs: fast-import would write thousands of loose
  // ref files, one at a time, for pack-refs to remove again.
  const refs = new Map<string, number>();
  for (let i = 0; i < shape.packages; i++) {
    const pkg = packagePath(shape, i);
    for (let n = 1; n <= shape.revisions; n++) head = `:${publishRevision(s, name, pkg, n, head, refs)}`;
  }
  for (let i = 0; i < shape.drafts; i++) {
    const pkg = packagePath(shape, i);
    const d = s.blob(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: draft1\n`);
    const c = s.commit({ ref: TMP_BRANCH, message: `Intermediate commit\n\n${trailer(pkg, 'draft1', 0)}\n`, from: head, files: [[`${pkg}/draft.yaml`, d]] });
    refs.set(`refs/heads/drafts/${pkg}/draft1`, c);
  }
  const marksFile = join(bare, 'bench-marks');
  await gitWithInput(bare, ['fast-import', '--quiet', '--done', `--export-marks=${marksFile}`], s.text() + 'done\n');
  const oids = new Map<number, string>();
  for (const line of readFileSync(marksFile, 'utf8').split('\n')) if (line) oids.set(Number(line.slice(1, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1));
  rmSync(marksFile);
  git(bare, 'update-ref', '-d', TMP_BRANCH);
  git(bare, 'pack-refs', '--all', '--prune');
  const packed = readFileSync(join(bare, 'packed-refs'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  for (const [ref, mark] of refs) packed.push(`${oids.get(mark)} ${ref}`);
  const byName = (l: string) => l.slice(41);
  packed.sort((a, b) => (byName(a) < byName(b) ? -1 : byName(a) > byName(b) ? 1 : 0));
  writeFileSync(join(bare, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${packed.join('\n')}\n`);
  return bare;
}

/**
 * Publish revision `n` of `pkg` on top of the repository's main (what another Porch or a person
 * pushing would leave): draft commit, merge into main, tag. Written as loose objects and refs, as a push does.
 */
export async function pushRevision(bare: string, repoName: string, pkg: string, n: number): Promise<void> {
  const s = new Stream();
  s.time = Math.floor(Date.now() / 1000);
  publishRevision(s, repoName, pkg, n, 'refs/heads/main^0');
  await gitWithInput(bare, ['fast-import', '--quiet', '--done'], s.text() + 'done\n');
  git(bare, 'update-ref', '-d', TMP_BRANCH);
}
