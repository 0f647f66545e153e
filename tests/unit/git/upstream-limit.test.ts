import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUpstreamPackage, UpstreamTooLargeError } from '../../../lib/git/upstream.ts';
import { git, kptfile, tempDir } from '../../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../../support/git-server.ts';

// --max-package-bytes on an upstream read: a fetch is abandoned as soon as the pack passes the limit
// (not after holding it all), and a package whose files add up to more is refused even when its pack
// was small.

const tmp = tempDir();
let server: GitServer;
const LIMIT = 256 * 1024;
// A chunk of the response body may overshoot the limit before the count sees it.
const SLACK = 256 * 1024;

function repoWith(name: string, files: Record<string, string | Buffer>): void {
  const work = join(tmp.path, `${name}-work`);
  mkdirSync(work);
  git(work, ['init', '-q', '--initial-branch=main']);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(work, p, '..'), { recursive: true });
    writeFileSync(join(work, p), content);
  }
  git(work, ['add', '-A']);
  git(work, ['commit', '-q', '-m', name]);
  git(tmp.path, ['clone', '-q', '--bare', work, join(tmp.path, 'served', `${name}.git`)]);
}

beforeAll(async () => {
  mkdirSync(join(tmp.path, 'served'));
  // 4 MiB that does not compress: the pack is as big as the file.
  repoWith('big', { 'pkg/Kptfile': kptfile('pkg'), 'pkg/blob.bin': randomBytes(4 * 1024 * 1024) });
  // 2 MiB that compresses to almost nothing: a small pack, a big package.
  repoWith('dense', { 'pkg/Kptfile': kptfile('pkg'), 'pkg/cm.yaml': `data: ${'a'.repeat(2 * 1024 * 1024)}\n` });
  repoWith('small', { 'pkg/Kptfile': kptfile('pkg'), 'pkg/cm.yaml': 'data: small\n' });
  server = await startGitServer({ root: join(tmp.path, 'served') });
});

afterAll(async () => {
  await server.stop();
  tmp.remove();
});

async function tooLarge(url: string): Promise<UpstreamTooLargeError> {
  const err = await readUpstreamPackage({ url, ref: 'main', directory: 'pkg', maxBytes: LIMIT }, join(tmp.path, 'scratch')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamTooLargeError);
  return err as UpstreamTooLargeError;
}

describe('the package size limit on an upstream', () => {
  it('abandons a fetch whose pack passes the limit, early', async () => {
    const err = await tooLarge(`${server.url}/big.git`);
    expect(err.limit).toBe(LIMIT);
    expect(err.bytesRead).toBeGreaterThan(LIMIT);
    expect(err.bytesRead).toBeLessThan(LIMIT + SLACK);
    expect(err.message).toContain(`limit of ${LIMIT} bytes (--max-package-bytes)`);
  });

  it('refuses a package whose files exceed the limit although its pack was small, over http and locally', async () => {
    expect((await tooLarge(`${server.url}/dense.git`)).bytesRead).toBeGreaterThan(2 * 1024 * 1024);
    await tooLarge(join(tmp.path, 'served', 'dense.git'));
  });

  it('reads a package under the limit', async () => {
    const pkg = await readUpstreamPackage({ url: `${server.url}/small.git`, ref: 'main', directory: 'pkg', maxBytes: LIMIT }, join(tmp.path, 'scratch'));
    expect(pkg.files['cm.yaml']).toBe('data: small\n');
  });
});
