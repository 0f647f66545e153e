// Authenticators read headers from either a fetch `Headers` (what Hono hands handlers) or a Node
// header record. Only Node's `incoming.headersDistinct` keeps repeated header lines apart; the other
// two forms have already joined repeats with ", ", so for headers that may repeat we split them again.

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function isFetchHeaders(h: HeaderSource): h is Headers {
  return typeof (h as Headers).get === 'function' && typeof (h as Headers).forEach === 'function';
}

/** Every header as [lower-case name, values]. */
export function headerEntries(h: HeaderSource): [string, string[]][] {
  const out = new Map<string, string[]>();
  const add = (name: string, values: string[]) => {
    const key = name.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), ...values]);
  };
  if (isFetchHeaders(h)) h.forEach((value, name) => add(name, splitJoined(value)));
  else
    for (const [name, value] of Object.entries(h)) {
      if (value === undefined) continue;
      add(name, Array.isArray(value) ? value : splitJoined(value));
    }
  return [...out];
}

function splitJoined(value: string): string[] {
  return value.split(/,\s*/);
}

/** A header that is read once (Authorization, X-Remote-User): the value as sent, joined or not. */
export function headerValue(h: HeaderSource, name: string): string | undefined {
  if (isFetchHeaders(h)) return h.get(name) ?? undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** A header that may be repeated (X-Remote-Group): one entry per line the client sent. */
export function headerValues(h: HeaderSource, name: string): string[] {
  const want = name.toLowerCase();
  return headerEntries(h).find(([k]) => k === want)?.[1] ?? [];
}
