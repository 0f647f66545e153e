import { errors } from '../errors.ts';

// Label selectors as kube-apiserver parses them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
// `a`, `!a`, comma-separated, all must hold.

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw errors.badRequest(`unable to parse requirement: unbalanced parenthesis in "${s}"`);
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw errors.badRequest(`unable to parse requirement: unbalanced parenthesis in "${s}"`);
  parts.push(cur);
  return parts;
}

function checkKey(key: string, raw: string): string {
  if (key.length > 316 || !KEY.test(key)) throw errors.badRequest(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  return key;
}

function checkValue(value: string, raw: string): string {
  if (value.length > 63 || !VALUE.test(value)) throw errors.badRequest(`unable to parse requirement: invalid label value "${value}" in "${raw}"`);
  return value;
}

export function parseLabelSelector(raw: string | undefined | null): LabelSelector {
  if (!raw || !raw.trim()) return [];
  checkLength(raw, 'label selector');
  const out: LabelSelector = [];
  for (const partRaw of splitTopLevel(raw)) {
    const part = partRaw.trim();
    if (!part) throw errors.badRequest(`unable to parse requirement: empty requirement in label selector "${raw}"`);
    const setMatch = /^([^\s!=()]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (setMatch) {
      const values = setMatch[3].split(',').map((x) => checkValue(x.trim(), raw));
      out.push({ key: checkKey(setMatch[1], raw), op: setMatch[2] as 'in' | 'notin', values });
      continue;
    }
    const cmp = /^([^\s!=()]+)\s*(==|!=|=)\s*([^\s!=()]*)$/.exec(part);
    if (cmp) {
      out.push({ key: checkKey(cmp[1], raw), op: cmp[2] === '!=' ? 'neq' : 'eq', value: checkValue(cmp[3], raw) });
      continue;
    }
    const not = /^!\s*([^\s!=()]+)$/.exec(part);
    if (not) {
      out.push({ key: checkKey(not[1], raw), op: 'notexists' });
      continue;
    }
    if (/^[^\s!=()]+$/.test(part)) {
      out.push({ key: checkKey(part, raw), op: 'exists' });
      continue;
    }
    throw errors.badRequest(`unable to parse requirement: "${part}" in label selector "${raw}"`);
  }
  return out;
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | null | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const val = l[r.key];
    switch (r.op) {
      case 'eq':
        if (!has || val !== r.value) return false;
        break;
      case 'neq':
        if (has && val === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(val)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(val)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Longer selectors are refused before parsing; no real selector comes near. */
export const MAX_SELECTOR_LENGTH = 10_000;

function checkLength(raw: string, what: string): void {
  if (raw.length > MAX_SELECTOR_LENGTH) throw errors.badRequest(`invalid ${what}: longer than ${MAX_SELECTOR_LENGTH} characters`);
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** `field=value`, `field==value` or `field!=value`: the operator is the first `=` or `!`, found by one scan. */
function fieldRequirement(part: string, raw: string): FieldRequirement {
  const fail = () => errors.badRequest(`invalid selector: '${raw}'; can't understand '${part}'`);
  let at = 0;
  while (at < part.length && part[at] !== '=' && part[at] !== '!') at++;
  if (at === 0 || at === part.length) throw fail();
  let op: FieldRequirement['op'] = 'eq';
  let width = 1;
  if (part[at] === '!') {
    if (part[at + 1] !== '=') throw fail();
    op = 'neq';
    width = 2;
  } else if (part[at + 1] === '=') width = 2;
  const value = part.slice(at + width).trimStart();
  // The value never spanned lines (a regex `.` did not cross one).
  if (LINE_BREAK.test(value)) throw fail();
  return { field: part.slice(0, at).trim(), op, value: value.trim() };
}

export function parseFieldSelector(raw: string | undefined | null): FieldSelector {
  if (!raw || !raw.trim()) return [];
  checkLength(raw, 'field selector');
  return raw.split(',').map((part) => fieldRequirement(part.trim(), raw));
}

/**
 * Checks each requirement's field against what a resource supports, with `values` giving the object's
 * value for a field; unknown fields are a 400 as in kube-apiserver.
 */
export function matchesFields(
  sel: FieldSelector,
  values: (field: string) => string | undefined,
): boolean {
  for (const r of sel) {
    const val = values(r.field) ?? '';
    if (r.op === 'eq' ? val !== r.value : val === r.value) return false;
  }
  return true;
}
