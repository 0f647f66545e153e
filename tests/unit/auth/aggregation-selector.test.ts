import { describe, expect, it } from 'vitest';
import { labelSelectorMatches } from '../../../lib/auth/rbac.ts';
import type { LabelSelector } from '../../../lib/auth/rbac-objects.ts';

// The clusterRoleSelectors of an aggregated ClusterRole, matched against another role's labels.
describe('aggregation label selectors', () => {
  const labels = { tier: 'view', app: 'porch' };
  const cases: [string, LabelSelector, boolean][] = [
    ['empty selector', {}, true],
    ['matchLabels equal', { matchLabels: { tier: 'view' } }, true],
    ['matchLabels differ', { matchLabels: { tier: 'edit' } }, false],
    ['matchLabels missing key', { matchLabels: { other: '' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edit', 'view'] }] }, true],
    ['In, key missing', { matchExpressions: [{ key: 'other', operator: 'In', values: ['view'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['view'] }] }, false],
    ['NotIn, key missing', { matchExpressions: [{ key: 'other', operator: 'NotIn', values: ['view'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['DoesNotExist, key missing', { matchExpressions: [{ key: 'other', operator: 'DoesNotExist' }] }, true],
    ['all must hold', { matchLabels: { app: 'porch' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['edit'] }] }, false],
  ];
  for (const [what, sel, want] of cases) it(`${what} → ${want}`, () => expect(labelSelectorMatches(sel, labels)).toBe(want));
});
