import { describe, expect, it } from 'vitest';
import { withPackageContextName, withUpstream } from '../../../lib/engine/tasks/kptfile-upstream.ts';

const lock = { repo: 'https://git.example.com/blueprints.git', directory: 'basens', ref: 'basens/v2', commit: 'a'.repeat(40) };

describe('the Kptfile of a package made from an upstream', () => {
  it('names the package and puts upstream and upstreamLock after metadata, as kpt pkg get does', () => {
    const before = 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: basens # blueprint name\n  annotations:\n    config.kubernetes.io/local-config: "true"\n# what it is\ninfo:\n  description: base namespace\n';
    expect(withUpstream(before, 'team-ns', lock)).toBe(
      'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: team-ns # blueprint name\n  annotations:\n    config.kubernetes.io/local-config: "true"\n' +
        'upstream:\n  type: git\n  git:\n    repo: https://git.example.com/blueprints.git\n    directory: basens\n    ref: basens/v2\n  updateStrategy: resource-merge\n' +
        `upstreamLock:\n  type: git\n  git:\n    repo: https://git.example.com/blueprints.git\n    directory: basens\n    ref: basens/v2\n    commit: ${'a'.repeat(40)}\n` +
        '# what it is\ninfo:\n  description: base namespace\n',
    );
  });

  it('replaces an earlier upstream rather than adding a second one', () => {
    const once = withUpstream('apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: a\n', 'a', { ...lock, ref: 'basens/v1' });
    const twice = withUpstream(once, 'a', lock);
    expect(twice.match(/^upstream:/gm)).toHaveLength(1);
    expect(twice.match(/^upstreamLock:/gm)).toHaveLength(1);
    expect(twice).toContain('ref: basens/v2');
    expect(twice).not.toContain('basens/v1');
  });

  it('sets the package name in package-context.yaml', () => {
    const ctx = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: "true"\ndata:\n  name: basens\n';
    expect(withPackageContextName(ctx, 'team-ns')).toBe(ctx.replace('name: basens', 'name: team-ns'));
  });
});
