import YAML from 'yaml';
import { isRecord } from '../util.ts';

export interface Selector {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One function of a Kptfile pipeline, as kpt.dev/v1 describes it. */
export interface FunctionSpec {
  image: string;
  name?: string;
  configPath?: string;
  configMap?: Record<string, string>;
  selectors: Selector[];
  exclude: Selector[];
}

export interface Pipeline {
  mutators: FunctionSpec[];
  validators: FunctionSpec[];
}

export interface PipelineProblem {
  field: string;
  message: string;
}

const SELECTOR_KEYS = ['apiVersion', 'kind', 'name', 'namespace'] as const;

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? '' : String(x);
  return out;
}

/** An optional list: absent is empty, anything but a list is a problem; `item` reads each entry at its own field. */
function listOf<T>(v: unknown, field: string, what: string, problems: PipelineProblem[], item: (x: unknown, at: string) => T | undefined): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push({ field, message: `must be a list of ${what}` });
    return [];
  }
  return v.flatMap((x, i) => item(x, `${field}[${i}]`) ?? []);
}

function selectorOf(s: unknown, field: string, problems: PipelineProblem[]): Selector {
  if (!isRecord(s)) {
    problems.push({ field, message: 'must be an object' });
    return {};
  }
  const sel: Selector = {};
  for (const k of SELECTOR_KEYS) if (typeof s[k] === 'string' && s[k]) sel[k] = s[k] as string;
  const labels = stringMap(s.labels);
  const annotations = stringMap(s.annotations);
  if (labels && Object.keys(labels).length) sel.labels = labels;
  if (annotations && Object.keys(annotations).length) sel.annotations = annotations;
  return sel;
}

function selectorsOf(v: unknown, field: string, problems: PipelineProblem[]): Selector[] {
  return listOf(v, field, 'selectors', problems, (s, at) => selectorOf(s, at, problems));
}

/** A path inside the package: relative, no `..` segment leaving it. */
export function insidePackage(path: string): boolean {
  if (!path || path.startsWith('/') || path.includes('\\')) return false;
  let depth = 0;
  for (const seg of path.split('/')) {
    if (seg === '..') depth--;
    else if (seg !== '.' && seg !== '') depth++;
    if (depth < 0) return false;
  }
  return depth > 0;
}

function functionOf(v: unknown, field: string, problems: PipelineProblem[]): FunctionSpec | undefined {
  if (!isRecord(v)) {
    problems.push({ field, message: 'must be an object' });
    return undefined;
  }
  // The server runs what the operator configured; a package naming a program to run would let any
  // tenant execute code on the server.
  if (v.exec !== undefined) problems.push({ field: `${field}.exec`, message: 'exec functions are not allowed; use an image' });
  if (typeof v.image !== 'string' || !v.image) {
    if (v.exec === undefined) problems.push({ field: `${field}.image`, message: 'image is required' });
    return undefined;
  }
  const spec: FunctionSpec = { image: v.image, selectors: selectorsOf(v.selectors, `${field}.selectors`, problems), exclude: selectorsOf(v.exclude, `${field}.exclude`, problems) };
  if (typeof v.name === 'string' && v.name) spec.name = v.name;
  if (v.configPath !== undefined && v.configMap !== undefined) problems.push({ field, message: 'only one of configMap and configPath can be specified' });
  if (v.configPath !== undefined) {
    if (typeof v.configPath !== 'string' || !insidePackage(v.configPath)) problems.push({ field: `${field}.configPath`, message: 'must be a relative path to a file in the package' });
    else spec.configPath = v.configPath;
  }
  if (v.configMap !== undefined) {
    const cm = stringMap(v.configMap);
    if (!cm) problems.push({ field: `${field}.configMap`, message: 'must be a map of strings' });
    else spec.configMap = cm;
  }
  return spec;
}

function functionsOf(v: unknown, field: string, problems: PipelineProblem[]): FunctionSpec[] {
  return listOf(v, field, 'functions', problems, (f, at) => functionOf(f, at, problems));
}

/** The pipeline of a Kptfile and what is wrong with it; a Kptfile without one has an empty pipeline. */
export function readPipeline(kptfile: string): { pipeline: Pipeline; problems: PipelineProblem[] } {
  const problems: PipelineProblem[] = [];
  let doc: unknown;
  try {
    doc = YAML.parse(kptfile);
  } catch (err) {
    problems.push({ field: 'Kptfile', message: `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
    return { pipeline: { mutators: [], validators: [] }, problems };
  }
  const p = isRecord(doc) ? doc.pipeline : undefined;
  if (p === undefined || p === null) return { pipeline: { mutators: [], validators: [] }, problems };
  if (!isRecord(p)) return { pipeline: { mutators: [], validators: [] }, problems: [{ field: 'pipeline', message: 'must be an object' }] };
  const pipeline = { mutators: functionsOf(p.mutators, 'pipeline.mutators', problems), validators: functionsOf(p.validators, 'pipeline.validators', problems) };
  return { pipeline, problems };
}
