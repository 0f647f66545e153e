import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ENV = { GIT_AUTHOR_NAME: 'fixture', GIT_AUTHOR_EMAIL: 'fixture@example.com', GIT_COMMITTER_NAME: 'fixture', GIT_COMMITTER_EMAIL: 'fixture@example.com' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...ENV }, maxBuffer: 256 * 1024 * 1024 }).trim();
}

export function kptfile(name: string, description = `${name} description`): string {
  return `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n  annotations:\n    config.kubernetes.io/local-config: "true"\ninfo:\n  description: ${description}\n`;
}

function trailer(pkg: string, ws: string, revision: number, task?: object): string {
  return `kpt:${JSON.stringify({ package: pkg, workspaceName: ws, revision: String(revision), ...(task ? { task } : {}) })}`;
}

export interface FixturePackage {
  path: string;
  /** Published revisions: each one a draft commit merged into main and tagged <path>/v<N>. */
  revisions: number;
  /** Extra draft branches (workspace names) left unpublished. */
  drafts?: string[];
}

/**
 * A bare repository written the way Porch writes one: a draft commit with a kpt trailer per revision,
 * merged into main with "Approving package revision", tagged <path>/v<N>; optional drafts/ branches.
 */
export function porchRepo(dir: string, name: string, packages: FixturePackage[]): string {
  const bare = join(dir, `${name}.git`);
  const work = join(dir, `${name}-work`);
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
  git(dir, 'init', '-q', '-b', 'main', work);
  writeFileSync(join(work, 'README.md'), `# ${name}\n`);
  git(work, 'add', '.');
  git(work, 'commit', '-qm', 'Initial commit');
  for (const p of packages) {
    const base = p.path.split('/').pop()!;
    for (let n = 1; n <= p.revisions; n++) {
      const ws = `v${n}`;
      git(work, 'checkout', '-q', '-b', `tmp-${base}-${n}`, 'main');
      mkdirSync(join(work, p.path), { recursive: true });
      writeFileSync(join(work, p.path, 'Kptfile'), kptfile(base, `${base} revision ${n}`));
      writeFileSync(join(work, p.path, 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${base}\ndata:\n  revision: "${n}"\n`);
      git(work, 'add', '.');
      const task = n === 1 ? { type: 'init', init: { description: `${base} description` } } : { type: 'edit', edit: { sourceRef: { name: `${name}.${p.path.replace(/\//g, '.')}.v${n - 1}` } } };
      git(work, 'commit', '-qm', `Creating new revision\n\n${trailer(p.path, ws, 0, task)}`);
      git(work, 'checkout', '-q', 'main');
      git(work, 'merge', '-q', '--no-ff', `tmp-${base}-${n}`, '-m', `Approving package revision ${p.path}/${n}\n\n${trailer(p.path, ws, n)}`);
      git(work, 'tag', `${p.path}/v${n}`);
      git(work, 'branch', '-q', '-D', `tmp-${base}-${n}`);
    }
    for (const ws of p.drafts ?? []) {
      git(work, 'checkout', '-q', '-b', `drafts/${p.path}/${ws}`, 'main');
      writeFileSync(join(work, p.path, 'draft.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${ws}\n`);
      git(work, 'add', '.');
      git(work, 'commit', '-qm', `Intermediate commit\n\n${trailer(p.path, ws, 0)}`);
      git(work, 'checkout', '-q', 'main');
    }
  }
  git(work, 'push', '-q', bare, '--all');
  git(work, 'push', '-q', bare, '--tags');
  return bare;
}
