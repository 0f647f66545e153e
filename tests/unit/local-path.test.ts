import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLocalRepository, LocalPathError, localPathPolicy, realpathNearest, type LocalPathPolicy } from '../../lib/local-path.ts';

// The one rule for local repository paths (Repository spec.git.repo and clone upstreams): under a
// --local-repo-root, never in the data directory, compared after realpath whatever the spelling.

let top: string;
let data: string;
let root: string;
let outside: string;
let mirror: string;

beforeAll(() => {
  top = realpathSync(mkdtempSync(join(tmpdir(), 'local-path-')));
  data = join(top, 'data');
  root = join(top, 'repos');
  outside = join(top, 'elsewhere');
  mirror = join(data, 'git', 'team-a', 'blueprints', 'mirror.git');
  for (const d of [mirror, join(root, 'blueprints.git'), join(root, 'work'), outside]) mkdirSync(d, { recursive: true });
  symlinkSync(mirror, join(root, 'to-mirror'));
  symlinkSync(outside, join(root, 'to-outside'));
  symlinkSync(mirror, join(root, 'work', '.git'));
  symlinkSync(root, join(top, 'root-link'));
});

afterAll(() => rmSync(top, { recursive: true, force: true }));

async function refusal(url: string, policy: LocalPathPolicy): Promise<string> {
  const err = await checkLocalRepository(url, policy).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, url).toBeInstanceOf(LocalPathError);
  return (err as Error).message;
}

describe('local repository paths', () => {
  it('in dev mode without roots: anything but the data directory, however it is spelled', async () => {
    const dev = localPathPolicy('dev', [], data);
    expect(await checkLocalRepository(join(outside), dev)).toBe(outside);
    expect(await checkLocalRepository(`${outside}/`, dev)).toBe(outside);
    for (const url of [
      mirror,
      `${mirror}/`,
      data,
      `/proc/self/root${mirror}`,
      `file:///proc/self/root${mirror}`,
      pathToFileURL(mirror).href,
      `${root}/../data/git/team-a/blueprints/mirror.git`,
      `${data}//git///team-a/blueprints/mirror.git//`,
      join(root, 'to-mirror'),
      `/proc/self/root${join(root, 'to-mirror')}`,
    ])
      await refusal(url, dev);
  });

  it('with roots: only under them (the root itself, a missing path under it), symlinks followed out are refused', async () => {
    const rooted = localPathPolicy('dev', [root], data);
    expect(await checkLocalRepository(join(root, 'blueprints.git'), rooted)).toBe(join(root, 'blueprints.git'));
    expect(await checkLocalRepository(`file:///proc/self/root${root}/blueprints.git/`, rooted)).toBe(join(root, 'blueprints.git'));
    expect(await checkLocalRepository(join(root, 'not-yet', 'x.git'), rooted)).toBe(join(root, 'not-yet', 'x.git'));
    expect(await checkLocalRepository(`${root}/`, rooted)).toBe(root);
    // A root given through a symlink means the directory it names.
    expect(await checkLocalRepository(join(root, 'blueprints.git'), localPathPolicy('dev', [join(top, 'root-link')], data))).toBe(join(root, 'blueprints.git'));
    expect(await checkLocalRepository(join(top, 'root-link', 'blueprints.git'), rooted)).toBe(join(root, 'blueprints.git'));
    for (const url of [
      outside,
      join(root, 'to-outside'),
      join(root, 'to-mirror'),
      `${root}/../elsewhere`,
      `${root}-other/x.git`,
      join(root, 'missing', '..', '..', 'elsewhere'),
      // A working tree whose .git links into the data directory.
      join(root, 'work'),
    ])
      await refusal(url, rooted);
  });

  it('refuses the data directory even under a root that contains it', async () => {
    const wide = localPathPolicy('dev', [top], data);
    expect(await checkLocalRepository(join(root, 'blueprints.git'), wide)).toBe(join(root, 'blueprints.git'));
    await refusal(mirror, wide);
    await refusal(`/proc/self/root${mirror}`, localPathPolicy('cluster', ['/'], data));
  });

  it('compares case as the filesystem does: another spelling of a root is another directory', async () => {
    const upper = join(dirname(root), basename(root).toUpperCase(), 'blueprints.git');
    await refusal(upper, localPathPolicy('dev', [root], data));
  });

  it('in cluster mode without roots: no local repository at all; a network URL is not a local path', async () => {
    const cluster = localPathPolicy('cluster', [], data);
    await refusal(join(root, 'blueprints.git'), cluster);
    expect(await checkLocalRepository('https://git.example.com/r.git', cluster)).toBeUndefined();
    await refusal('file://otherhost/srv/r.git', localPathPolicy('dev', [], data));
  });

  it('says the same about a refused path whether or not it exists', async () => {
    const dev = localPathPolicy('dev', [], data);
    const existing = await refusal(`/proc/self/root${mirror}`, dev);
    const missing = await refusal(`/proc/self/root${data}/git/team-a/nothing-here`, dev);
    expect(missing.replace('nothing-here', 'X')).toBe(existing.replace('blueprints/mirror.git', 'X'));
    const rooted = localPathPolicy('dev', [root], data);
    expect((await refusal(join(outside), rooted)).replace(outside, 'P')).toBe((await refusal(join(outside, 'nope'), rooted)).replace(join(outside, 'nope'), 'P'));
  });

  it('resolves a missing path through its nearest existing ancestor', async () => {
    expect(await realpathNearest(`/proc/self/root${data}/a/b`)).toBe(`${data}/a/b`);
    expect(await realpathNearest(`${data}/missing/../x`)).toBeUndefined();
    expect(await realpathNearest('/')).toBe('/');
  });
});
