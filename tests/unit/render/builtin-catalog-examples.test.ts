import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { render } from '../../../lib/render/render.ts';
import { builtinRuntime } from '../../../lib/render/runtimes/builtin.ts';

// The catalog's documented examples of each built-in (examples/*/ of kpt-functions-catalog), kept as files in
// fixtures/catalog/<function>/<example>/: input/ is the package as published, expected/ the package after the
// example's .expected/diff.patch. Rendered with the built-in, the package must equal expected/ byte for byte,
// with the Kptfile unchanged. The examples pin `:unstable`; each input Kptfile names the released tag the
// built-in serves.

const CATALOG = fileURLToPath(new URL('./fixtures/catalog/', import.meta.url));

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

function packageFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return files;
}

const examples = subdirs(CATALOG).map((fn) => ({ fn, names: subdirs(join(CATALOG, fn)) }));

it('every catalog example is on disk', () => {
  expect(examples).toEqual([
    { fn: 'apply-replacements', names: ['apply-replacements-simple'] },
    { fn: 'apply-setters', names: ['apply-setters-simple'] },
    { fn: 'ensure-name-substring', names: ['ensure-name-substring-depends-on', 'ensure-name-substring-prefix'] },
    { fn: 'search-replace', names: ['search-replace-simple'] },
    { fn: 'set-annotations', names: ['set-annotations-simple'] },
    { fn: 'set-image', names: ['set-image-advanced', 'set-image-simple'] },
    { fn: 'set-labels', names: ['set-labels-simple'] },
    { fn: 'set-namespace', names: ['set-namespace-depends-on', 'set-namespace-kpt-package-context', 'set-namespace-simple'] },
  ]);
});

for (const { fn, names } of examples) {
  describe(`built-in ${fn}: catalog examples`, () => {
    for (const name of names) {
      it(name, async () => {
        const files = packageFiles(join(CATALOG, fn, name, 'input'));
        const expected = packageFiles(join(CATALOG, fn, name, 'expected'));
        expect(Object.keys(expected).length).toBeGreaterThan(0);
        const { files: out, results } = await render(files, { runtimes: [builtinRuntime()] });
        expect(results.exitCode).toBe(0);
        expect(out).toEqual({ ...expected, Kptfile: files.Kptfile });
      });
    }
  });
}
