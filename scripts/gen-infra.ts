import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from '../lib/api/crd.ts';

// Writes infra/crds/*.yaml from lib/api. Run after changing a config.porch.kpt.dev schema, resource
// descriptor or CRD rule: `npm run gen:infra`. A CRD file no longer generated is removed.

const INFRA = fileURLToPath(new URL('../infra/', import.meta.url));

async function main(): Promise<void> {
  const files = crdFiles();
  const wanted = new Set(files.map((f) => join(INFRA, f.path)));
  for (const f of files) {
    const path = join(INFRA, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
    console.log(`wrote infra/${f.path}`);
  }
  const crdDir = join(INFRA, 'crds');
  for (const name of await readdir(crdDir)) {
    const path = join(crdDir, name);
    if (name.endsWith('.yaml') && !wanted.has(path)) {
      await rm(path);
      console.log(`removed infra/crds/${name}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
