import YAML from 'yaml';
import { isRecord } from '../util.ts';

/** An operator's mapping of a function image to a program on the server. */
export interface ExecFunction {
  /** NAME (every tag) or NAME:TAG. */
  image: string;
  exec: string;
  args: string[];
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Go-style durations as the config file writes them: 500ms, 30s, 2m, 1m30s. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of text.matchAll(re)) total += Number(m[1]) * unit[m[2]];
  return total;
}

/**
 * Reads a `--function-config` file (`functions: [{image, exec, args, timeout}]`); throws with every
 * problem found, so the server refuses to start on a config it would half apply.
 */
export function loadFunctionConfig(text: string): ExecFunction[] {
  const doc: unknown = YAML.parse(text);
  const problems: string[] = [];
  const list = isRecord(doc) ? doc.functions : undefined;
  if (!Array.isArray(list)) throw new Error('function config: `functions` must be a list');
  const out = list.flatMap((f: unknown, i): ExecFunction[] => {
    const at = `functions[${i}]`;
    if (!isRecord(f)) {
      problems.push(`${at}: must be an object`);
      return [];
    }
    const { image, exec, args, timeout } = f;
    if (typeof image !== 'string' || !image) problems.push(`${at}.image: required`);
    if (typeof exec !== 'string' || !exec.startsWith('/')) problems.push(`${at}.exec: must be an absolute path`);
    if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) problems.push(`${at}.args: must be a list of strings`);
    const ms = timeout === undefined ? DEFAULT_TIMEOUT_MS : typeof timeout === 'string' ? parseDuration(timeout) : undefined;
    if (ms === undefined || ms <= 0) problems.push(`${at}.timeout: must be a duration such as 30s`);
    if (typeof image !== 'string' || typeof exec !== 'string' || ms === undefined) return [];
    return [{ image, exec, args: Array.isArray(args) ? (args as string[]) : [], timeoutMs: ms }];
  });
  if (problems.length) throw new Error(`function config: ${problems.join('; ')}`);
  return out;
}

/** An image without a tag matches every tag of that name; an exact NAME:TAG wins over it. */
export function matchExec(functions: readonly ExecFunction[], image: string): ExecFunction | undefined {
  const exact = functions.find((f) => f.image === image);
  if (exact) return exact;
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(':');
  const name = colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
  return functions.find((f) => f.image === name);
}
