import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Reading Kubernetes manifests in tests: objects out of multi-document YAML, and the files to read.

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` as an object; anything else fails the test that reads it. */
export function obj(v: unknown): Obj {
  if (!isObj(v)) throw new Error(`expected an object, got ${JSON.stringify(v)}`);
  return v;
}

/** The objects of a multi-document YAML text, `where` naming it in errors; empty documents are skipped, as kubectl skips them. */
export function yamlObjects(text: string, where: string): Obj[] {
  return parseAllDocuments(text)
    .filter((d) => d.contents !== null)
    .map((d) => {
      if (d.errors.length) throw new Error(`${where}: ${d.errors[0].message}`);
      return obj(d.toJSON());
    });
}

/** The files below `dir` whose names `keep` accepts, directory by directory in name order. */
export function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return filesUnder(path, keep);
      return keep(name) ? [path] : [];
    });
}
