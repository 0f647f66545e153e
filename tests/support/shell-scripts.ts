import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Executable /bin/sh scripts in a temporary directory (functions for the exec runtime); remove() deletes them. */
export function shellScripts(prefix: string): { script(name: string, body: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    script(name, body) {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
