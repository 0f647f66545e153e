import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { REPOSITORIES } from '../../lib/api/resources.ts';
import { BacklogBudget } from '../../lib/watch/backlog-budget.ts';
import { WatchEventSource, type WatchSink } from '../../lib/watch/event-source.ts';
import { WatchHub } from '../../lib/watch/hub.ts';

// Many watchers of one hub share each event's serialisation, and together they are bounded: past the
// process-wide total, the watchers furthest behind are cut off with an ERROR event.

/**
 * A stand-in for a client connection (chunked HTTP or WebSocket, which cannot be made slow on
 * demand here): it keeps what is written and reads back `readFraction` of it.
 */
class ConnectionStandIn implements WatchSink {
  readonly chunks: Uint8Array[] = [];
  written = 0;
  ended = false;

  constructor(private readonly readFraction = 0) {}

  write(json: Uint8Array): void {
    this.chunks.push(json);
    this.written += json.byteLength;
  }
  backlog(): number {
    return Math.round(this.written * (1 - this.readFraction));
  }
  end(): void {
    this.ended = true;
  }
  abort(): void {
    this.ended = true;
  }
  text(): string[] {
    return this.chunks.map((c) => Buffer.from(c).toString('utf8'));
  }
}

function repo(name: string, rv: number, labels: Record<string, string> = {}, padding = 0): KubeObject {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name, namespace: 'default', resourceVersion: String(rv), labels, annotations: { pad: 'x'.repeat(padding) } },
    spec: { type: 'git', git: { repo: 'https://example.com/r.git' } },
  };
}

function watch(hub: WatchHub, sink: WatchSink, opts: { table?: boolean; filter?: (o: KubeObject) => boolean; budget?: BacklogBudget } = {}): WatchEventSource {
  const source = new WatchEventSource({
    res: REPOSITORIES,
    table: opts.table ?? false,
    bookmarks: false,
    initialEventsEnd: false,
    currentResourceVersion: () => '1',
    subscribe: (send) => hub.subscribe({ filter: opts.filter ?? (() => true), send }),
    backlogBudget: opts.budget ?? new BacklogBudget(1 << 30),
    slowClientGraceMs: 60_000,
  });
  source.attach(sink);
  return source;
}

describe('watch events shared across watchers', () => {
  it('serialises each event once per encoding: every watcher queues the very same bytes', () => {
    const hub = new WatchHub();
    const plain = Array.from({ length: 5 }, () => new ConnectionStandIn());
    const tables = Array.from({ length: 3 }, () => new ConnectionStandIn());
    // Selected by label: the object entering its selection is ADDED for it, not MODIFIED.
    const labelled = Array.from({ length: 3 }, () => new ConnectionStandIn());
    // Subscribed interleaved, so the hub hands the event to the encodings in turn.
    const sources = plain.flatMap((s, i) => [
      watch(hub, s),
      ...(tables[i] ? [watch(hub, tables[i], { table: true })] : []),
      ...(labelled[i] ? [watch(hub, labelled[i], { filter: (o) => o.metadata.labels?.team === 'a' })] : []),
    ]);
    const before = repo('r', 2);
    const after = repo('r', 3, { team: 'a' });
    hub.publish({ type: 'MODIFIED', object: after, prev: before, rv: 3 });

    for (const group of [plain, tables, labelled]) {
      expect(group.every((s) => s.chunks.length === 1)).toBe(true);
      for (const s of group) expect(s.chunks[0]).toBe(group[0].chunks[0]);
    }
    expect(plain[0].chunks[0]).not.toBe(tables[0].chunks[0]);
    expect(JSON.parse(plain[0].text()[0])).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'r' } } });
    expect(JSON.parse(tables[0].text()[0])).toMatchObject({ type: 'MODIFIED', object: { kind: 'Table' } });
    expect(JSON.parse(labelled[0].text()[0])).toMatchObject({ type: 'ADDED' });

    // The next event is a new serialisation, shared again.
    hub.publish({ type: 'DELETED', object: repo('r', 4, { team: 'a' }), rv: 4 });
    expect(plain[1].chunks[1]).toBe(plain[4].chunks[1]);
    expect(plain[1].chunks[1]).not.toBe(plain[1].chunks[0]);
    for (const s of sources) s.close();
  });

  it('past the total bound the watchers furthest behind are cut off with an ERROR event, the others go on', () => {
    const hub = new WatchHub();
    const budget = new BacklogBudget(64 * 1024);
    const stalled = new ConnectionStandIn(0);
    const lagging = new ConnectionStandIn(0.5);
    const reading = new ConnectionStandIn(1);
    const sources = [stalled, lagging, reading].map((s) => watch(hub, s, { budget }));
    const errorOf = (s: ConnectionStandIn) => s.text().find((t) => t.includes('"ERROR"'));

    let rv = 10;
    const publish = () => hub.publish({ type: 'ADDED', object: repo(`r${rv}`, rv, {}, 1024), rv: rv++ });
    for (let i = 0; i < 1000 && !stalled.ended; i++) publish();
    expect(stalled.ended).toBe(true);
    expect(JSON.parse(errorOf(stalled)!)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 504, reason: 'Timeout' } });
    expect(errorOf(stalled)).toMatch(/too slow/);
    // Far from its own 16 MiB limit: it was the total that cut it off, and only it.
    expect(stalled.written).toBeLessThan(budget.maxBytes + 4096);
    expect(lagging.ended).toBe(false);
    expect(reading.ended).toBe(false);
    expect(budget.counted).toBeLessThanOrEqual(budget.maxBytes);

    for (let i = 0; i < 1000 && !lagging.ended; i++) publish();
    expect(lagging.ended).toBe(true);
    expect(errorOf(lagging)).toMatch(/too slow/);
    expect(reading.ended).toBe(false);
    expect(errorOf(reading)).toBeUndefined();
    // The reader got every event, in order.
    const names = reading.text().map((t) => (JSON.parse(t) as { object: { metadata: { name: string } } }).object.metadata.name);
    expect(names).toEqual(Array.from({ length: rv - 10 }, (_, i) => `r${10 + i}`));
    for (const s of sources) s.close();
    expect(budget.counted).toBe(0);
  });
});
