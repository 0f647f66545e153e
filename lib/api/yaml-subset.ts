// A parser for the subset of YAML most Kptfiles are written in: nested block mappings of plain or
// simply quoted string scalars. For exactly those documents it gives the value YAML.parse would (YAML
// 1.2 core schema) at a fraction of the cost; for anything more (sequences, comments, flow style,
// anchors, tags, multi-line or non-string scalars, ...) it answers undefined and the caller parses fully.
//
// Every revision's Kptfile goes through here on a cold load, so lines are read by index rather than
// split, trimmed and matched: the only whitespace it accepts is the space (and the newline between
// lines); a document with any other (tabs, no-break spaces, ...) is left to the full parser.

/** Characters that make a document more than this subset: other whitespace, comments, flow style, anchors, tags, block scalars. */
const OUTSIDE =
  /[\t\r\v\f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff#&*!|>{}[\]`]/;

/** Scalars the core schema resolves to something other than a string (null, booleans, numbers). */
const NON_STRING = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/,
  /^0o[0-7]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
];
/** The first characters a NON_STRING scalar can start with (the empty one aside). */
const NON_STRING_START = /^[~nNtTfF0-9+.-]/;
const PLAIN_VALUE = /^[A-Za-z0-9_/][A-Za-z0-9 _./@=+,()%~:-]*$/;

function nonString(raw: string): boolean {
  return raw === '' || (NON_STRING_START.test(raw) && NON_STRING.some((re) => re.test(raw)));
}

function scalar(raw: string): string | undefined {
  if (raw.length >= 2 && raw[0] === '"' && raw.endsWith('"')) {
    const inner = raw.slice(1, -1);
    return /["\\]/.test(inner) ? undefined : inner;
  }
  if (raw.length >= 2 && raw[0] === "'" && raw.endsWith("'")) {
    const inner = raw.slice(1, -1);
    return inner.includes("'") ? undefined : inner;
  }
  if (!PLAIN_VALUE.test(raw) || raw.endsWith(' ') || raw.endsWith(':') || raw.includes(': ')) return undefined;
  return nonString(raw) ? undefined : raw;
}

const SPACE = 0x20;
const COLON = 0x3a;

/** Whether `c` may start a plain key ([A-Za-z0-9_]), or (`rest`) continue one ([A-Za-z0-9_./-]). */
function keyChar(c: number, rest: boolean): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || (rest && (c === 0x2e || c === 0x2f || c === 0x2d))
  );
}

export type SimpleMap = { [key: string]: SimpleMap | string | null };

/** A document of nested block mappings with string leaves, or undefined when it is anything more. */
export function simpleYamlMapping(text: string): SimpleMap | undefined {
  // Document markers and directives (---, ..., %) need no check of their own: no key starts with them.
  if (OUTSIDE.test(text)) return undefined;
  const root: SimpleMap = {};
  const stack: { indent: number; map: SimpleMap }[] = [{ indent: 0, map: root }];
  let pending: { map: SimpleMap; key: string; indent: number } | undefined;
  let lines = 0;
  for (let pos = 0, end = 0; pos <= text.length; pos = end + 1) {
    end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let i = pos;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (i === end) continue;
    if (text.charCodeAt(end - 1) === SPACE) return undefined;
    const indent = i - pos;
    if (pending) {
      if (indent > pending.indent) {
        const child: SimpleMap = {};
        pending.map[pending.key] = child;
        stack.push({ indent, map: child });
      } else pending.map[pending.key] = null;
      pending = undefined;
    }
    while (indent < stack[stack.length - 1].indent) stack.pop();
    const top = stack[stack.length - 1];
    if (indent !== top.indent) return undefined;
    if (!keyChar(text.charCodeAt(i), false)) return undefined;
    let colon = i + 1;
    while (colon < end && keyChar(text.charCodeAt(colon), true)) colon++;
    if (colon === end || text.charCodeAt(colon) !== COLON) return undefined;
    const key = text.slice(i, colon);
    if (key === '__proto__' || nonString(key) || Object.hasOwn(top.map, key)) return undefined;
    if (colon + 1 === end) pending = { map: top.map, key, indent };
    else {
      if (text.charCodeAt(colon + 1) !== SPACE) return undefined;
      let v = colon + 2;
      while (text.charCodeAt(v) === SPACE) v++;
      const value = scalar(text.slice(v, end));
      if (value === undefined) return undefined;
      top.map[key] = value;
    }
    lines++;
  }
  if (pending) pending.map[pending.key] = null;
  return lines ? root : undefined;
}

export function isMap(v: SimpleMap | string | null | undefined): v is SimpleMap {
  return v !== null && typeof v === 'object';
}
