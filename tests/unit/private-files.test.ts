import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../../gateway/kubeconfig.ts';
import { findResource, RESOURCES } from '../../lib/api/resources.ts';
import { mkdirPrivate, writeFileAtomic } from '../../lib/store/atomic-file.ts';
import { EmbeddedStore } from '../../lib/store/embedded.ts';
import { startDevServer, type DevServer } from '../support/dev-server.ts';

// Credentials the server keeps on disk — stored Secrets, the admin token, the serving key, the
// kubeconfig it writes — are readable by the server's user only, whatever the umask allows.

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** Every file and directory under `dir` whose mode lets group or others in. */
async function open(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    if ((await mode(path)) & 0o077) out.push(`${path} ${(await mode(path)).toString(8)}`);
    if ((await stat(path)).isDirectory()) for (const e of await readdir(path)) await walk(join(path, e));
  };
  await walk(dir);
  return out;
}

describe('private files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'private-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes files 0600, also over a world-readable one, durable or not', async () => {
    await writeFile(join(dir, 'old'), 'x', { mode: 0o644 });
    await chmod(join(dir, 'old'), 0o644);
    await writeFileAtomic(join(dir, 'old'), 'secret');
    await writeFileAtomic(join(dir, 'new'), 'secret', false);
    expect(await mode(join(dir, 'old'))).toBe(0o600);
    expect(await mode(join(dir, 'new'))).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['new', 'old']);
  });

  it('makes directories 0700', async () => {
    await mkdirPrivate(join(dir, 'a', 'b'));
    expect(await mode(join(dir, 'a'))).toBe(0o700);
    expect(await mode(join(dir, 'a', 'b'))).toBe(0o700);
  });

  it('stores Secrets where only the server can read them', async () => {
    const store = await EmbeddedStore.open(join(dir, 'store'), RESOURCES);
    const secrets = findResource('', 'v1', 'secrets')!;
    await store.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, data: { password: 'aHVudGVyMg==' } });
    expect(await open(join(dir, 'store'))).toEqual([]);
  });

  it('writes a kubeconfig 0600', async () => {
    await writeKubeconfig(join(dir, 'kube', 'config'), 'https://127.0.0.1:1', 'token');
    expect(await mode(join(dir, 'kube', 'config'))).toBe(0o600);
    expect(await mode(join(dir, 'kube'))).toBe(0o700);
  });
});

describe('a server’s data directory', () => {
  let server: DevServer;
  afterAll(async () => {
    await server?.stop();
  });

  it('holds the admin token, serving key and kubeconfig readable by the server only', async () => {
    server = await startDevServer({ args: ['--tls', '--sync-interval', '0'] });
    const files = await readdir(server.dataDir);
    expect(files).toEqual(expect.arrayContaining(['admin-token', 'serving.key', 'serving.crt', 'kubeconfig']));
    expect(await open(server.dataDir)).toEqual([]);
  });
});
