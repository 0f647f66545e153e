// The JSON text of frozen API objects, kept as long as the object lives. The cache hands out deep-frozen
// objects (an object changes by being replaced), so a text can never go stale: a list of thousands of
// cached revisions is then copied from texts instead of serialised again on every request.
const texts = new WeakMap<object, string>();

export function objectJson(obj: object): string {
  if (!Object.isFrozen(obj)) return JSON.stringify(obj);
  let text = texts.get(obj);
  if (text === undefined) texts.set(obj, (text = JSON.stringify(obj)));
  return text;
}

const CHUNK_BYTES = 64 * 1024;
// A UTF-16 code unit never takes more than three bytes of UTF-8.
const MAX_BYTES_PER_UNIT = 3;

export interface ListJsonOptions<T> {
  /** The field that holds the list: `items`, or a Table's `rows`. */
  key?: string;
  /** Each element's JSON text. */
  text?: (item: T) => string;
}

/**
 * `JSON.stringify({ ...head, [key]: items.map(text) })` as UTF-8 chunks of about 64 KiB, each made when the
 * reader asks for it. A list of thousands of objects is megabytes: built whole, every request would fill
 * fresh memory as large as the answer, which costs more than serialising it, and hold the event loop while
 * it does.
 */
export function listJsonStream<T extends object>(head: object, items: readonly T[], opts: ListJsonOptions<T> = {}): ReadableStream<Uint8Array> {
  const key = opts.key ?? 'items';
  const text = opts.text ?? objectJson;
  // The list goes last whatever the head holds, so its closing `[]}` is where the elements go.
  const rest: Record<string, unknown> = { ...head };
  delete rest[key];
  const open = JSON.stringify({ ...rest, [key]: [] }).slice(0, -2);
  const parts = function* (): Generator<string> {
    yield open;
    for (let i = 0; i < items.length; i++) yield i === 0 ? text(items[i]) : `,${text(items[i])}`;
    yield ']}';
  };
  const source = parts();
  let pending: string | undefined;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        let used = 0;
        for (;;) {
          const piece = pending ?? source.next().value;
          pending = undefined;
          if (piece === undefined) {
            if (used > 0) controller.enqueue(chunk.subarray(0, used));
            controller.close();
            return;
          }
          const room = piece.length * MAX_BYTES_PER_UNIT;
          if (used + room > chunk.length) {
            if (used > 0) {
              pending = piece;
              controller.enqueue(chunk.subarray(0, used));
              return;
            }
            chunk = Buffer.allocUnsafe(room);
          }
          used += chunk.write(piece, used);
        }
      },
    },
    { highWaterMark: 0 },
  );
}
