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
const PLAIN_VALUE = /^[A-Za-z0-9_/][A-Za-z0-9 _./@=+,()%~:-]*$/;

/** Whether NON_STRING holds `raw`; most keys and values rule it out by their first character. */
function nonString(raw: string): boolean {
  if (raw === '') return true;
  const c = raw.charCodeAt(0);
  const candidate =
    c === 0x7e || c === 0x6e || c === 0x4e || c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46 || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
  return candidate && NON_STRING.some((re) => re.test(raw));
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

/** One open mapping while reading: its indentation, its keys so far (for duplicates), and, when building, the object. */
interface Level {
  indent: number;
  keys: string[];
  map: SimpleMap | undefined;
}

/** Where a wanted section started: its header line, and the indentation its block is deeper than. */
interface OpenSection {
  tag: number;
  start: number;
  indent: number;
}

/**
 * Reads a document of the subset. With `build`, answers its value; with `sections` (paths of keys),
 * answers the text of those of them it holds, each block as written followed by a tab, its index and a
 * tab (no tab is in the subset), which determines their values without building anything. undefined when the document is anything more.
 */
function scan(text: string, build: boolean, sections: readonly (readonly string[])[] = []): SimpleMap | string | undefined {
  // Document markers and directives (---, ..., %) need no check of their own: no key starts with them.
  if (OUTSIDE.test(text)) return undefined;
  const root: SimpleMap | undefined = build ? {} : undefined;
  const stack: Level[] = [{ indent: 0, keys: [], map: root }];
  let pending: { level: Level; key: string; indent: number } | undefined;
  let open: OpenSection | undefined;
  let found = '';
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
        const child: SimpleMap | undefined = build ? {} : undefined;
        if (pending.level.map) pending.level.map[pending.key] = child ?? null;
        stack.push({ indent, keys: [], map: child });
      } else if (pending.level.map) pending.level.map[pending.key] = null;
      pending = undefined;
    }
    if (open && indent <= open.indent) {
      found += `${text.slice(open.start, pos)}\t${open.tag}\t`;
      open = undefined;
    }
    while (indent < stack[stack.length - 1].indent) stack.pop();
    const top = stack[stack.length - 1];
    if (indent !== top.indent) return undefined;
    if (!keyChar(text.charCodeAt(i), false)) return undefined;
    let colon = i + 1;
    while (colon < end && keyChar(text.charCodeAt(colon), true)) colon++;
    if (colon === end || text.charCodeAt(colon) !== COLON) return undefined;
    const key = text.slice(i, colon);
    if (key === '__proto__' || nonString(key) || top.keys.includes(key)) return undefined;
    top.keys.push(key);
    if (!open && sections.length) {
      const tag = sectionAt(stack, key, sections);
      if (tag >= 0) open = { tag, start: pos, indent };
    }
    if (colon + 1 === end) pending = { level: top, key, indent };
    else {
      if (text.charCodeAt(colon + 1) !== SPACE) return undefined;
      let v = colon + 2;
      while (text.charCodeAt(v) === SPACE) v++;
      const value = scalar(text.slice(v, end));
      if (value === undefined) return undefined;
      if (top.map) top.map[key] = value;
    }
    lines++;
  }
  if (pending?.level.map) pending.level.map[pending.key] = null;
  if (open) found += `${text.slice(open.start)}\t${open.tag}\t`;
  if (!lines) return undefined;
  return build ? root : found;
}

/** The index of the section whose path ends in `key` under the keys the stack is open at, or -1. */
function sectionAt(stack: readonly Level[], key: string, sections: readonly (readonly string[])[]): number {
  for (let s = 0; s < sections.length; s++) {
    const path = sections[s];
    if (path.length !== stack.length || path[path.length - 1] !== key) continue;
    let d = 1;
    while (d < stack.length && path[d - 1] === stack[d - 1].keys[stack[d - 1].keys.length - 1]) d++;
    if (d === stack.length) return s;
  }
  return -1;
}

/** A document of nested block mappings with string leaves, or undefined when it is anything more. */
export function simpleYamlMapping(text: string): SimpleMap | undefined {
  return scan(text, true) as SimpleMap | undefined;
}

/**
 * For a document simpleYamlMapping reads, a text that tells the values at the given key paths apart:
 * documents with the same text have the same values there (absent, a string, null or a mapping). It is
 * those sections as written, so it costs no objects; undefined when the document is not in the subset.
 */
export function simpleYamlSections(text: string, sections: readonly (readonly string[])[]): string | undefined {
  return scan(text, false, sections) as string | undefined;
}

export function isMap(v: SimpleMap | string | null | undefined): v is SimpleMap {
  return v !== null && typeof v === 'object';
}
