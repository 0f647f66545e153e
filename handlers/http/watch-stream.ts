import { WatchEventSource, type WatchSourceOptions } from '../../lib/watch/event-source.ts';
import { ndjsonResponse } from '../../lib/watch/ndjson.ts';

export type { AsyncWatchSource } from '../../lib/watch/event-source.ts';
export type WatchStreamOptions = WatchSourceOptions;

/**
 * A handler's watch answer: the event source, subscribed now (a 410 throws from here), in a response
 * that streams it as newline-delimited JSON unless the gateway moves it to a WebSocket.
 */
export function watchResponse(opts: WatchSourceOptions): Response {
  return ndjsonResponse(new WatchEventSource(opts));
}
