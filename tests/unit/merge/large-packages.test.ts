import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../lib/errors.ts';
import { mergePackage, upgradePackageInSlices, type MergeInput } from '../../../lib/merge/package.ts';
import { TimeBudget } from '../../../lib/time-budget.ts';
import { cpuTimed } from '../../support/cpu-time.ts';

// Merge time (CPU time) grows with the size of the package, not with its square: a 20,000-key ConfigMap once
// held the event loop for about 50 s. And an upgrade served to a request lets other requests in
// between its resources, and stops with a 503 once it has used up its time budget.

const configMap = (name: string, keys: number, value: (i: number) => string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${Array.from({ length: keys }, (_, i) => `  k${i}: "${value(i)}"\n`).join('')}`;

/** One ConfigMap of `keys` keys: upstream changes every second key, the local copy every third. */
function bigConfigMap(keys: number): MergeInput {
  return {
    original: { 'cm.yaml': configMap('big', keys, () => 'a') },
    updated: { 'cm.yaml': configMap('big', keys, (i) => (i % 2 ? 'b' : 'a')) },
    local: { 'cm.yaml': configMap('big', keys, (i) => (i % 3 ? 'a' : 'c')) },
  };
}

function timed(input: MergeInput): { ms: number; out: string } {
  const { ms, value } = cpuTimed(() => mergePackage(input)['cm.yaml']);
  return { ms, out: value };
}

describe('merging large packages', () => {
  it('merges a ConfigMap in time linear in its keys, every key as kpt does', () => {
    timed(bigConfigMap(2_000));
    const small = Math.min(timed(bigConfigMap(5_000)).ms, timed(bigConfigMap(5_000)).ms);
    const large = timed(bigConfigMap(20_000));
    // Four times the keys: about four times the time when linear, sixteen when quadratic.
    expect(large.ms / small).toBeLessThan(9);
    expect(large.ms).toBeLessThan(20_000);
    const lines = large.out.split('\n');
    for (const kept of ['  k1: "b"', '  k3: "b"', '  k4: "a"', '  k6: "c"', '  k19999: "b"']) expect(lines).toContain(kept);
    expect(lines.filter((l) => l.startsWith('  k'))).toHaveLength(20_000);
  });

  it('serves other work between the resources of an upgrade', async () => {
    const files = (value: (i: number) => string) => Object.fromEntries(Array.from({ length: 100 }, (_, f) => [`cm${f}.yaml`, configMap(`cm${f}`, 200, value)]));
    const input = { original: files(() => 'a'), updated: files((i) => (i % 2 ? 'b' : 'a')), local: files((i) => (i % 3 ? 'a' : 'c')) };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = performance.now();
    const out = await upgradePackageInSlices(undefined, input).finally(() => clearInterval(timer));
    const took = performance.now() - start;
    expect(out).toEqual(mergePackage(input));
    // About one turn per 20 ms slice (a timer fires at most once per turn).
    expect(ticks).toBeGreaterThan(took / 200);
  });

  it('stops an upgrade that outlives its time budget with a 503 Status', async () => {
    const input = bigConfigMap(5_000);
    const twice = { ...input, original: { ...input.original, 'b.yaml': input.original['cm.yaml'] }, updated: { ...input.updated, 'b.yaml': input.updated['cm.yaml'] } };
    const err = await upgradePackageInSlices('resource-merge', twice, new TimeBudget(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(503);
    expect((err as StatusError).message).toContain('resource-merge upgrade');
  });
});
