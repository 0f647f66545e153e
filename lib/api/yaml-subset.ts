// A parser for the subset of YAML most Kptfiles are written in: nested block mappings of plain or
// simply quoted string scalars. For exactly those documents it gives the value YAML.parse would (YAML
// 1.2 core schema) at a fraction of the cost; for anything more (sequences, comments, flow style,
// anchors, tags, multi-line or non-string scalars, ...) it answers undefined and the caller parses fully.

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
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const PLAIN_VALUE = /^[A-Za-z0-9_/][A-Za-z0-9 _./@=+,()%~:-]*$/;

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
  return NON_STRING.some((re) => re.test(raw)) ? undefined : raw;
}

export type SimpleMap = { [key: string]: SimpleMap | string | null };

/** A document of nested block mappings with string leaves, or undefined when it is anything more. */
export function simpleYamlMapping(text: string): SimpleMap | undefined {
  if (/[\t\r#&*!|>{}[\]`]/.test(text) || /^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  const root: SimpleMap = {};
  const stack: { indent: number; map: SimpleMap }[] = [{ indent: 0, map: root }];
  let pending: { map: SimpleMap; key: string; indent: number } | undefined;
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    if (line.endsWith(' ')) return undefined;
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
    const rest = line.slice(indent);
    const colon = rest.indexOf(':');
    if (colon <= 0) return undefined;
    const key = rest.slice(0, colon);
    if (!PLAIN_KEY.test(key) || key === '__proto__' || NON_STRING.some((re) => re.test(key)) || Object.hasOwn(top.map, key)) return undefined;
    const after = rest.slice(colon + 1);
    if (after === '') pending = { map: top.map, key, indent };
    else {
      if (after[0] !== ' ') return undefined;
      const value = scalar(after.trimStart());
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
