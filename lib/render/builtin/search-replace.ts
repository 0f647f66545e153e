import YAML, { isMap, isPair, isScalar, isSeq, type Document, type Scalar } from 'yaml';
import { FunctionFailure } from '../runtime.ts';
import type { FunctionResultItem } from '../types.ts';
import { configMapData, str } from './objects.ts';
import type { BuiltinFunction } from './registry-types.ts';

// search-replace v0.2: fields matched by value (or a regex over the whole value), by path (`*` one
// field, `**` any depth, `[i]`/`[*]` list elements) and by file (a glob), optionally given a new
// value (with the regex's ${N} groups) or line comment.

interface Matchers {
  value?: string;
  regex?: RegExp;
  path?: string[];
  file?: RegExp;
  putValue?: string;
  putComment?: string;
}

function glob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      re += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
      i = end;
    } else if (c === '{') {
      const end = pattern.indexOf('}', i);
      re += `(?:${pattern.slice(i + 1, end).split(',').map((a) => a.replace(/[.+^$()|\\]/g, '\\$&')).join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|{}\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Path segments: `a.b[1].c` → a, b, [1], c. */
function segments(path: string): string[] {
  return path.split('.').flatMap((s) => {
    const m = /^([^[]*)((?:\[[^\]]*\])*)$/.exec(s);
    if (!m) return [s];
    return [...(m[1] ? [m[1]] : []), ...(m[2].match(/\[[^\]]*\]/g) ?? [])];
  });
}

function pathMatches(pattern: readonly string[], path: readonly string[]): boolean {
  if (!pattern.length) return !path.length;
  const [p, ...rest] = pattern;
  if (p === '**') return pathMatches(rest, path) || (path.length > 0 && pathMatches(pattern, path.slice(1)));
  if (!path.length) return false;
  const ok = p === '*' ? !path[0].startsWith('[') : p === '[*]' || p === '[]' ? path[0].startsWith('[') : p === path[0];
  return ok && pathMatches(rest, path.slice(1));
}

function matchersOf(config: Document | undefined): Matchers {
  const d = configMapData(config, 'ConfigMap', 'data');
  const m: Matchers = {};
  if (d['by-value'] !== undefined) m.value = d['by-value'];
  if (d['by-value-regex'] !== undefined) m.regex = new RegExp(`^(?:${d['by-value-regex']})$`);
  if (d['by-path'] !== undefined) m.path = segments(d['by-path']);
  if (d['by-file-path'] !== undefined) m.file = glob(d['by-file-path']);
  if (d['put-value'] !== undefined) m.putValue = d['put-value'];
  if (d['put-comment'] !== undefined) m.putComment = d['put-comment'];
  if (m.value === undefined && !m.regex && !m.path) throw new FunctionFailure('at least one of ["by-value", "by-value-regex", "by-path"] must be provided');
  if (m.value !== undefined && m.regex) throw new FunctionFailure('only one of ["by-value", "by-value-regex"] can be provided');
  return m;
}

function expand(template: string, groups: RegExpExecArray | null): string {
  return template.replace(/\$\{(\d+)\}/g, (w, n: string) => (groups && groups[Number(n)] !== undefined ? groups[Number(n)] : w));
}

function typed(text: string, old: unknown): unknown {
  if (typeof old !== 'number' && typeof old !== 'boolean') return text;
  const v: unknown = YAML.parse(text);
  return (typeof v === 'number' || typeof v === 'boolean') && String(v) === text ? v : text;
}

export const searchReplace: BuiltinFunction = (items, config, paths) => {
  const m = matchersOf(config);
  const results: FunctionResultItem[] = [];
  for (const [i, doc] of items.entries()) {
    const file = paths?.[i] ?? str(doc, ['metadata', 'annotations', 'internal.config.kubernetes.io/path']) ?? '';
    if (m.file && !m.file.test(file)) continue;
    let matched = 0;
    YAML.visit(doc, {
      Scalar(key, node, ancestors) {
        if (key === 'key') return;
        const path: string[] = [];
        for (const [j, a] of ancestors.entries()) {
          if (isPair(a) && isScalar(a.key)) path.push(String(a.key.value));
          else if (isSeq(a)) {
            const next = ancestors[j + 1] ?? node;
            path.push(`[${a.items.indexOf(next as never)}]`);
          }
        }
        if (m.path && !pathMatches(m.path, path)) return;
        const text = node.value === null ? '' : String(node.value);
        if (m.value !== undefined && text !== m.value) return;
        const groups = m.regex ? m.regex.exec(text) : null;
        if (m.regex && !groups) return;
        matched++;
        if (m.putValue !== undefined) node.value = typed(expand(m.putValue, groups), node.value);
        if (m.putComment !== undefined) (node as Scalar).comment = ` ${expand(m.putComment, groups)}`;
        results.push({ message: m.putValue !== undefined || m.putComment !== undefined ? `Mutated field value to "${String(node.value)}"` : `Matched field value "${text}"`, field: { path: path.join('.').replace(/\.\[/g, '[') }, file: { path: file } });
      },
    });
    // A plain path with a value to put and nothing to match on creates the field, as documented.
    if (!matched && m.path && m.putValue !== undefined && m.value === undefined && !m.regex && m.path.every((s) => s !== '*' && s !== '**' && !s.startsWith('['))) {
      doc.setIn(m.path, m.putValue);
      if (!isMap(doc.contents)) continue;
      results.push({ message: `Mutated field value to "${m.putValue}"`, field: { path: m.path.join('.') }, file: { path: file } });
    }
  }
  if (!results.length) results.push({ message: 'no matches' });
  return results;
};
