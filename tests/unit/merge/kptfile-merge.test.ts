import { describe, expect, it } from 'vitest';
import { mergePackage } from '../../../lib/merge/package.ts';

// The root Kptfile under resource-merge: upstream's changes to info, pipeline and the metadata
// annotations and labels come in; the package's own name and upstream fields stay local (the
// engine writes the new upstream and upstreamLock afterwards).

const upstream = 'upstream:\n  type: git\n  git:\n    repo: https://example.com/blueprints.git\n    directory: bp\n    ref: bp/v1\n';

describe('resource-merge, the Kptfile', () => {
  it('keeps local name, upstream and additions; takes upstream’s info change; merges mutators by image as kpt does', () => {
    const original = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\ninfo:\n  description: one\npipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/set-labels:v0.1\n      configMap:\n        app: one\n';
    const updated =
      'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\ninfo:\n  description: two\npipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/set-labels:v0.2\n      configMap:\n        app: one\n    - image: gcr.io/kpt-fn/set-namespace:v0.4\n';
    const local =
      'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: downstream # ours\n' +
      upstream +
      'info:\n  site: local\n  description: one\npipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/set-labels:v0.1\n      configMap:\n        app: one\n        team: blue\n  validators:\n    - image: gcr.io/kpt-fn/kubeval:v0.3\n';
    expect(mergePackage({ original: { Kptfile: original }, updated: { Kptfile: updated }, local: { Kptfile: local } }).Kptfile).toBe(
      'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: downstream # ours\n' +
        upstream +
        'info:\n  site: local\n  description: two\npipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/set-labels:v0.2\n      configMap:\n        app: one\n        team: blue\n    - image: gcr.io/kpt-fn/set-namespace:v0.4\n  validators:\n    - image: gcr.io/kpt-fn/kubeval:v0.3\n',
    );
  });

  it('matches named functions by name, and a function upstream removed is removed', () => {
    const kf = (fns: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n${fns}`;
    const fn = (name: string, image: string) => `    - name: ${name}\n      image: ${image}\n`;
    const out = mergePackage({
      original: { Kptfile: kf(fn('labels', 'set-labels:v1') + fn('ns', 'set-namespace:v1')) },
      updated: { Kptfile: kf(fn('labels', 'set-labels:v2')) },
      local: { Kptfile: kf(fn('labels', 'set-labels:v1') + fn('ns', 'set-namespace:v1') + fn('mine', 'starlark:v1')) },
    });
    expect(out.Kptfile).toBe(kf(fn('labels', 'set-labels:v2') + fn('mine', 'starlark:v1')));
  });

  it('leaves the local Kptfile byte for byte when upstream changed nothing it merges', () => {
    const local = `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: mine}\n${upstream}info: {description: one}\n`;
    const bp = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bp\ninfo:\n  description: one\n';
    expect(mergePackage({ original: { Kptfile: bp }, updated: { Kptfile: bp }, local: { Kptfile: local } }).Kptfile).toBe(local);
  });
});
