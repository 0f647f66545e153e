import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';

// Everything the server writes this way — stored objects (Secrets among them), the admin token, the
// serving key, kubeconfigs — is readable by its owner only, in directories only its owner can list.

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** `mkdir -p` whose new directories are private (existing ones are left as they are). */
export async function mkdirPrivate(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR });
}

/** A rename is durable only once the directory holding the new entry is synced too. */
async function syncDirectory(path: string): Promise<void> {
  const dh = await open(path, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Write via a temporary file and rename, so a crash at any point leaves either the old or the new
 * content under `path`, never a torn file; when `durable`, an acknowledged write also survives
 * power loss.
 */
export async function writeFileAtomic(path: string, data: string, durable = true): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', PRIVATE_FILE);
  try {
    await fh.writeFile(data);
    if (durable) await fh.datasync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (durable) await syncDirectory(dirname(path));
}
