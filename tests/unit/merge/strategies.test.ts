import { describe, expect, it } from 'vitest';
import { copyMerge, fastForwardPackage, forceDeleteReplace, MergeError, upgradePackage, type MergeInput } from '../../../lib/merge/package.ts';

// The three other upgrade strategies Porch offers, each as kpt's (or Porch's) updater of that
// name behaves.

const cm = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  ${data}\n`;
const kf = (name: string, extra = '') => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n${extra}info:\n  description: blueprint\n`;
const upstream = 'upstream:\n  type: git\n  git:\n    repo: https://example.com/bp.git\n    directory: bp\n    ref: v1\n';

const input: MergeInput = {
  original: { Kptfile: kf('bp'), 'cm.yaml': cm('a', 'x: "1"'), 'old.yaml': cm('old', 'o: "1"'), 'README.md': 'v1\n' },
  updated: { Kptfile: kf('bp').replace('blueprint', 'blueprint v2'), 'cm.yaml': cm('a', 'x: "2"'), 'new.yaml': cm('new', 'n: "1"'), 'README.md': 'v2\n' },
  local: { Kptfile: kf('down', upstream), 'cm.yaml': cm('a', 'x: "local"'), 'old.yaml': cm('old', 'o: "1"'), 'mine.yaml': cm('mine', 'm: "1"'), 'README.md': 'v1\n' },
};

/**
 * `input` upgraded by copy-merge, and by resource-merge too: upstream changed every field the local
 * package changed, so upstream's value wins either way; local-only files stay, upstream's deletions go.
 */
const UPGRADED = {
  Kptfile: kf('down', upstream).replace('blueprint', 'blueprint v2'),
  'cm.yaml': cm('a', 'x: "2"'),
  'new.yaml': cm('new', 'n: "1"'),
  'mine.yaml': cm('mine', 'm: "1"'),
  'README.md': 'v2\n',
};

describe('fast-forward', () => {
  it('refuses a package changed locally, with a MergeError listing the changed files', () => {
    expect(() => fastForwardPackage(input)).toThrow(MergeError);
    expect(() => fastForwardPackage(input)).toThrow('local package files have been modified: [cm.yaml mine.yaml]; fast-forward needs an unchanged package, use a different upgrade strategy');
    try {
      fastForwardPackage(input);
    } catch (err) {
      expect((err as MergeError).reason).toBe('local-changes');
    }
  });

  it('counts a local Kptfile edit as a change, but not its name, upstream fields or kpt’s annotations on resources', () => {
    const clean = {
      Kptfile: kf('down', upstream),
      'cm.yaml': cm('a', 'x: "1"').replace('  name: a\n', "  name: a\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|default|a'\n"),
      'old.yaml': input.original['old.yaml'],
      'README.md': 'v1\n',
    };
    expect(fastForwardPackage({ ...input, local: clean })).toEqual({ ...input.updated, Kptfile: clean.Kptfile });
    const edited = { ...clean, Kptfile: clean.Kptfile.replace('blueprint', 'ours') };
    expect(() => fastForwardPackage({ ...input, local: edited })).toThrow('local package files have been modified: [Kptfile]');
  });
});

describe('force-delete-replace', () => {
  it('takes upstream’s files whatever the local package holds; only the local Kptfile stays, as in kpt', () => {
    expect(forceDeleteReplace(input)).toEqual({ ...input.updated, Kptfile: input.local.Kptfile });
  });
});

describe('copy-merge', () => {
  it('copies upstream’s files over local ones, removes files upstream deleted, keeps local-only files, merges the Kptfile', () => {
    expect(copyMerge(input)).toEqual(UPGRADED);
  });
});

describe('upgradePackage', () => {
  it('picks the strategy by its Porch name, resource-merge by default', () => {
    expect(upgradePackage('force-delete-replace', input)).toEqual(forceDeleteReplace(input));
    expect(upgradePackage('copy-merge', input)).toEqual(copyMerge(input));
    expect(() => upgradePackage('fast-forward', input)).toThrow(MergeError);
    expect(upgradePackage(undefined, input)).toEqual(UPGRADED);
  });
});
