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

/** Whether NON_STRING holds `raw`; most keys and values rule it out by their first character. */
function nonString(raw: string): boolean {
  if (raw === '') return true;
  const c = raw.charCodeAt(0);
  const candidate =
    c === 0x7e || c === 0x6e || c === 0x4e || c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46 || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
  if (!candidate) return false;
  for (let i = 0; i < NON_STRING.length; i++) if (NON_STRING[i].test(raw)) return true;
  return false;
}

// Keys and scalars are matched in place (sticky, from lastIndex): one native call each, and nothing
// is cut out of the text but keys and the values a build keeps.

/** A plain key and its colon. */
const KEY = /[A-Za-z0-9_][A-Za-z0-9_./-]*:/y;
/** A plain scalar: no ": " in it (checked here), and not ending in ":" (checked by the caller). */
const PLAIN = /[A-Za-z0-9_/](?:[A-Za-z0-9 _./@=+,()%~-]|:(?! ))*/y;
/** Quoted scalars without escapes. */
const DOUBLE_QUOTED = /"[^"\\]*"/y;
const SINGLE_QUOTED = /'[^']*'/y;

const SPACE = 0x20;
const COLON = 0x3a;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

function matchesTo(re: RegExp, text: string, from: number, to: number): boolean {
  re.lastIndex = from;
  return re.test(text) && re.lastIndex === to;
}

/** The string scalar text[from, to) stands for, or undefined when it is anything more. */
function scalarAt(text: string, from: number, to: number): string | undefined {
  const c = text.charCodeAt(from);
  if (c === DOUBLE_QUOTE) return matchesTo(DOUBLE_QUOTED, text, from, to) ? text.slice(from + 1, to - 1) : undefined;
  if (c === SINGLE_QUOTE) return matchesTo(SINGLE_QUOTED, text, from, to) ? text.slice(from + 1, to - 1) : undefined;
  if (!matchesTo(PLAIN, text, from, to) || text.charCodeAt(to - 1) === COLON) return undefined;
  const raw = text.slice(from, to);
  return nonString(raw) ? undefined : raw;
}

export type SimpleMap = { [key: string]: SimpleMap | string | null };

// The open mappings of the document being read, outermost first: their indentation, where their keys
// start in `keys` (the key a mapping belongs to is the one just before). Shared by every scan (none starts
// while another runs: nothing a scan calls reads YAML), so reading a document allocates no arrays.
const indents: number[] = [0];
const firstKeys: number[] = [0];
const keys: string[] = [];

/**
 * Reads a document of the subset. With `build`, answers its value; with `sections` (paths of keys),
 * answers the text of those of them it holds, each block as written followed by a tab, its index and a
 * tab (no tab is in the subset), which determines their values without building anything. undefined
 * when the document is anything more.
 */
function scan(text: string, build: boolean, sections: readonly (readonly string[])[] = []): SimpleMap | string | undefined {
  // Document markers and directives (---, ..., %) need no check of their own: no key starts with them.
  if (OUTSIDE.test(text)) return undefined;
  let depth = 0;
  let keyCount = 0;
  /** When building, the objects of the open mappings. */
  const maps: SimpleMap[] = build ? [{}] : [];
  /** A key whose value (a mapping, or null) is told by the next line; its indentation, or -1. */
  let pendingIndent = -1;
  let sectionTag = -1;
  let sectionStart = 0;
  let sectionIndent = 0;
  let found = '';
  let read = 0;
  for (let pos = 0, end = 0; pos <= text.length; pos = end + 1) {
    end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let i = pos;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (i === end) continue;
    if (text.charCodeAt(end - 1) === SPACE) return undefined;
    const indent = i - pos;
    if (pendingIndent >= 0) {
      if (indent > pendingIndent) {
        if (build) maps[depth + 1] = maps[depth][keys[keyCount - 1]] = {};
        depth++;
        indents[depth] = indent;
        firstKeys[depth] = keyCount;
      } else if (build) maps[depth][keys[keyCount - 1]] = null;
      pendingIndent = -1;
    }
    if (sectionTag >= 0 && indent <= sectionIndent) {
      found += `${text.slice(sectionStart, pos)}\t${sectionTag}\t`;
      sectionTag = -1;
    }
    while (indent < indents[depth]) keyCount = firstKeys[depth--];
    if (indent !== indents[depth]) return undefined;
    KEY.lastIndex = i;
    if (!KEY.test(text)) return undefined;
    const colon = KEY.lastIndex - 1;
    const key = text.slice(i, colon);
    if (key === '__proto__' || nonString(key)) return undefined;
    for (let k = firstKeys[depth]; k < keyCount; k++) if (keys[k] === key) return undefined;
    if (sectionTag < 0 && sections.length) {
      sectionTag = sectionAt(depth, key, sections);
      sectionStart = pos;
      sectionIndent = indent;
    }
    keys[keyCount++] = key;
    if (colon + 1 === end) pendingIndent = indent;
    else {
      if (text.charCodeAt(colon + 1) !== SPACE) return undefined;
      let v = colon + 2;
      while (text.charCodeAt(v) === SPACE) v++;
      const value = scalarAt(text, v, end);
      if (value === undefined) return undefined;
      if (build) maps[depth][key] = value;
    }
    read++;
  }
  if (pendingIndent >= 0 && build) maps[depth][keys[keyCount - 1]] = null;
  if (sectionTag >= 0) found += `${text.slice(sectionStart)}\t${sectionTag}\t`;
  if (!read) return undefined;
  return build ? maps[0] : found;
}

/** The index of the section whose path is the keys the open mappings (to `depth`) belong to and then `key`, or -1. */
function sectionAt(depth: number, key: string, sections: readonly (readonly string[])[]): number {
  for (let s = 0; s < sections.length; s++) {
    const path = sections[s];
    if (path.length !== depth + 1 || path[depth] !== key) continue;
    let d = 1;
    while (d <= depth && path[d - 1] === keys[firstKeys[d] - 1]) d++;
    if (d > depth) return s;
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
