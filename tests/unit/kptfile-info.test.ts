import { describe, expect, it } from 'vitest';
import { kptfileInfo } from '../../lib/engine/objects.ts';
import { readKptfile } from '../../lib/engine/kptfile.ts';

const kptfile = (name: string, extra = '') =>
  `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n  annotations:\n    config.kubernetes.io/local-config: "true"\n${extra}info:\n  description: ${name} revision 1\n`;

describe('kptfileInfo', () => {
  it('is what readKptfile reads, for simple Kptfiles and others', () => {
    const texts = [
      kptfile('a'),
      kptfile('a', '  labels:\n    tier: web\n'),
      `${kptfile('b')}upstream:\n  type: git\n  git:\n    repo: https://example.com/r.git\n    directory: /b\n    ref: main\nupstreamLock:\n  type: git\n  git:\n    commit: abc\n`,
      `${kptfile('c')}info2:\n  readinessGates:\n    - conditionType: Ready\n`,
      `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: d\ninfo:\n  readinessGates:\n  - conditionType: Ready\nstatus:\n  conditions:\n  - type: Ready\n    status: "True"\n`,
      'not: [valid',
      '',
    ];
    for (const text of texts) expect(kptfileInfo(text)).toEqual(readKptfile(text));
  });

  it('shares one frozen info between Kptfiles that differ only where a revision does not show it', () => {
    const a = kptfileInfo(kptfile('shared-a'));
    const b = kptfileInfo(kptfile('shared-b'));
    expect(b).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.annotations)).toBe(true);
    const labelled = kptfileInfo(kptfile('shared-c', '  labels:\n    tier: web\n'));
    expect(labelled).not.toBe(a);
    expect(labelled.labels).toEqual({ tier: 'web' });
  });

  it('keeps apart Kptfiles whose shown parts differ only in a long upstreamLock', () => {
    const lock = (commit: string) => `upstreamLock:\n  type: git\n  git:\n    repo: https://example.com/a/very/long/repository/path/that/makes/the/section/long.git\n    commit: ${commit}\n`;
    const one = kptfileInfo(kptfile('lock', lock('a111111111111111111111111111111111111111')));
    const two = kptfileInfo(kptfile('lock', lock('b222222222222222222222222222222222222222')));
    expect(one.upstreamLock).toEqual({ type: 'git', git: { repo: 'https://example.com/a/very/long/repository/path/that/makes/the/section/long.git', commit: 'a111111111111111111111111111111111111111' } });
    expect((two.upstreamLock as { git: { commit: string } }).git.commit).toBe('b222222222222222222222222222222222222222');
  });
});
