import { describe, expect, it } from 'vitest';
import type { PackageRevision, PorchPackage } from '../../lib/api/porch.ts';
import { parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from '../../lib/api/selectors.ts';
import { normalisePackageFieldSelector, normaliseRevisionFieldSelector, packageMatcher, revisionMatcher } from '../../lib/engine/fields.ts';
import { StatusError } from '../../lib/errors.ts';

const revision: PackageRevision = {
  apiVersion: 'porch.kpt.dev/v1alpha1',
  kind: 'PackageRevision',
  metadata: { name: 'repo.app.v2', namespace: 'ns', labels: { tier: 'front' } },
  spec: { packageName: 'app', repository: 'repo', workspaceName: 'v2', revision: 2, lifecycle: 'Published', packageMetadata: { labels: { team: 'a' } } },
  status: {},
};

const pkg: PorchPackage = {
  apiVersion: 'porch.kpt.dev/v1alpha1',
  kind: 'PorchPackage',
  metadata: { name: 'repo.app', namespace: 'ns', labels: { tier: 'front' } },
  spec: { packageName: 'app', repository: 'repo' },
  status: { latestRevision: 2 },
};

function code(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof StatusError ? err.code : -1;
  }
}

type Match = (fields: string, namespace?: string, labels?: string) => boolean;

/** Whether `obj` is in a list filtered by a namespace and the selectors, as the list handlers filter. */
function selecting<T>(
  matcher: (namespace: string | undefined, labels: LabelSelector, fields: FieldSelector) => (o: T) => boolean,
  normalise: (sel: FieldSelector) => FieldSelector,
  obj: T,
): Match {
  return (fields, namespace, labels = '') => matcher(namespace, parseLabelSelector(labels), normalise(parseFieldSelector(fields)))(obj);
}

const kinds: { kind: string; matches: Match; cases: [string, boolean][]; unsupported: string[] }[] = [
  {
    kind: 'PackageRevision',
    matches: selecting(revisionMatcher, normaliseRevisionFieldSelector, revision),
    cases: [
      ['metadata.name=repo.app.v2', true],
      ['metadata.namespace=other', false],
      ['spec.revision=v2', true],
      ['spec.revision=3', false],
      ['spec.packageName=app,spec.repository=repo', true],
      ['spec.workspaceName!=v2', false],
      ['spec.lifecycle=Published', true],
      ['spec.packageMetadata.labels[team]=a', true],
      ['spec.packageMetadata.labels[missing]=', true],
    ],
    unsupported: ['spec.tasks=x', 'status.publishedBy=x', 'spec.revision=two', 'spec.lifecycle=Gone', 'toString=x'],
  },
  {
    kind: 'PorchPackage',
    matches: selecting(packageMatcher, normalisePackageFieldSelector, pkg),
    cases: [
      ['metadata.name=repo.app', true],
      ['metadata.namespace=ns', true],
      ['spec.packageName=other', false],
      ['spec.repository!=repo', false],
    ],
    // The fields only revisions have are unknown here.
    unsupported: ['spec.revision=1', 'spec.lifecycle=Published', 'spec.workspaceName=v1', 'spec.packageMetadata.labels[a]=b', 'constructor=x'],
  },
];

for (const { kind, matches, cases, unsupported } of kinds)
  describe(`${kind} field selectors`, () => {
    for (const [sel, want] of cases) it(`${sel} → ${want}`, () => expect(matches(sel)).toBe(want));

    it('applies the namespace and label selector too', () => {
      expect(matches('', 'ns', 'tier=front')).toBe(true);
      expect(matches('', 'other')).toBe(false);
      expect(matches('', undefined, 'tier=back')).toBe(false);
      expect(matches('', undefined, '!tier')).toBe(false);
    });

    it('refuses unknown fields and bad values with 400', () => {
      for (const bad of unsupported) expect(code(() => matches(bad)), bad).toBe(400);
    });
  });
