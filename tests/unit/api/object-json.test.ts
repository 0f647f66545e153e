import { describe, expect, it } from 'vitest';
import { listJsonStream, objectJson } from '../../../lib/api/object-json.ts';
import { deepFreeze } from '../../../lib/util.ts';

function counted(value: unknown): { obj: object; calls: () => number } {
  let n = 0;
  const obj = {
    toJSON() {
      n++;
      return value;
    },
  };
  return { obj, calls: () => n };
}

describe('object JSON texts', () => {
  it('serialises a frozen object once and answers later calls from the cache', () => {
    const { obj, calls } = counted({ a: 1 });
    Object.freeze(obj);
    expect(objectJson(obj)).toBe('{"a":1}');
    expect(objectJson(obj)).toBe('{"a":1}');
    expect(calls()).toBe(1);
  });

  it('serialises an object that can still change every time', () => {
    const obj: { n: number } = { n: 1 };
    expect(objectJson(obj)).toBe('{"n":1}');
    obj.n = 2;
    expect(objectJson(obj)).toBe('{"n":2}');
  });

  const head = { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionList', metadata: { resourceVersion: '7' } };

  async function streamed(items: readonly object[]): Promise<{ text: string; chunks: number[] }> {
    const chunks: Uint8Array[] = [];
    for await (const c of listJsonStream(head, items)) chunks.push(c);
    return { text: Buffer.concat(chunks).toString('utf8'), chunks: chunks.map((c) => c.length) };
  }

  it('streams a list exactly as JSON.stringify writes it', async () => {
    const items = [deepFreeze({ metadata: { name: 'a', labels: { 'x/y': 'é"\\' } } }), { metadata: { name: 'b' } }, deepFreeze({ spec: { tasks: [] } })];
    for (const list of [items, items.slice(0, 1), []]) expect((await streamed(list)).text).toBe(JSON.stringify({ ...head, items: list }));
  });

  it('cuts a long list into chunks of at most 64 KiB, and gives an object larger than that a chunk of its own', async () => {
    // Multi-byte characters (2, 3 and 4 bytes in UTF-8) put objects across where a chunk would end.
    const items = Array.from({ length: 3000 }, (_, i) => deepFreeze({ metadata: { name: `p${i}`, annotations: { note: 'é€😀'.repeat(i % 7) + 'x'.repeat(i % 50) } } }));
    const huge = deepFreeze({ data: '€'.repeat(100_000) });
    const list = [...items.slice(0, 1500), huge, ...items.slice(1500)];
    const { text, chunks } = await streamed(list);
    expect(text).toBe(JSON.stringify({ ...head, items: list }));
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.filter((n) => n > 64 * 1024)).toEqual([Buffer.byteLength(`,${JSON.stringify(huge)}`)]);
    expect(Math.max(...chunks.filter((n) => n <= 64 * 1024))).toBeGreaterThan(60 * 1024);
  });

  it('puts the list last under the key it is given, each element written by the given text', async () => {
    const chunks: Uint8Array[] = [];
    const stream = listJsonStream({ rows: ['old'], kind: 'Table', metadata: {} }, [{ n: 1 }, { n: 2 }], { key: 'rows', text: (o) => JSON.stringify({ cells: [o.n] }) });
    for await (const c of stream) chunks.push(c);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('{"kind":"Table","metadata":{},"rows":[{"cells":[1]},{"cells":[2]}]}');
  });
});
