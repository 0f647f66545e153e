import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Document } from 'yaml';
import { RenderError } from './errors.ts';
import { textOf } from './file-text.ts';
import { packageDirs, parseDocs, readPackage, writePackage } from './package-files.ts';
import { readPipeline, type FunctionSpec, type Pipeline } from './pipeline-spec.ts';
import { annotate, defaultPath, unannotate } from './resource-list.ts';
import { findRunner } from './runtime-chain.ts';
import { FunctionFailure, RuntimeUnavailable, type FunctionOutput, type FunctionRunner, type FunctionRuntime } from './runtime.ts';
import { selected } from './selectors.ts';
import type { FunctionResult, FunctionResultList, KrmItem, PackageFiles, RenderResult } from './types.ts';

export interface RenderOptions {
  /** Asked in order for each image (built-in, operator executables, function runner). */
  runtimes: readonly FunctionRuntime[];
  signal?: AbortSignal;
  /**
   * Awaited between functions so the event loop gets a turn (and a caller's budget is checked);
   * default: a turn after every function.
   */
  pause?: () => Promise<void>;
}

interface PackageNode {
  dir: string;
  pipeline: Pipeline;
}

function inside(dir: string, path: string): boolean {
  return dir === '' || path.startsWith(`${dir}/`);
}

/** Subpackages before their parent, depth first, siblings in path order (kpt's hydration order). */
function renderOrder(dirs: string[]): string[] {
  const sorted = [...dirs].sort();
  const parentOf = (d: string) => sorted.filter((p) => p !== d && inside(p, d)).reduce<string | undefined>((a, b) => (a === undefined || b.length > a.length ? b : a), undefined);
  const order: string[] = [];
  const visit = (d: string | undefined) => {
    for (const c of sorted) if (c !== d && parentOf(c) === d) visit(c);
    if (d !== undefined) order.push(d);
  };
  visit(undefined);
  return order;
}

/** Every pipeline of the package, checked before anything runs; one bad function stops the render. */
export function readPipelines(files: PackageFiles): PackageNode[] {
  const causes: string[] = [];
  const nodes = renderOrder(packageDirs(files)).map((dir) => {
    const kptfile = dir ? `${dir}/Kptfile` : 'Kptfile';
    const { pipeline, problems } = readPipeline(textOf(kptfile, files[kptfile]));
    for (const p of problems) causes.push(`${kptfile}: ${p.field}: ${p.message}`);
    return { dir, pipeline };
  });
  if (causes.length) throw new RenderError('invalid-pipeline', causes.join('; '));
  return nodes;
}

function functionConfig(files: PackageFiles, dir: string, fn: FunctionSpec): Document | undefined {
  if (fn.configMap) return new Document({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'function-input' }, data: fn.configMap });
  if (!fn.configPath) return undefined;
  const path = dir ? `${dir}/${fn.configPath}` : fn.configPath;
  const content = files[path];
  if (content === undefined) throw new RenderError('invalid-pipeline', `package "${dir || '.'}": configPath ${fn.configPath} of function "${fn.image}" does not exist`, fn.image);
  const docs = parseDocs(path, textOf(path, content));
  if (docs.length !== 1) throw new RenderError('invalid-pipeline', `package "${dir || '.'}": configPath ${fn.configPath} of function "${fn.image}" must hold exactly one resource`, fn.image);
  return docs[0];
}

type InProcessOutput = FunctionOutput & { mapped: KrmItem[] };

/** Copies in, the same objects out: no annotations to add, strip and reconcile. */
async function runInProcess(runner: FunctionRunner, chosen: KrmItem[], dir: string, config: Document | undefined): Promise<InProcessOutput> {
  const from = new Map<Document, KrmItem>();
  const copies = chosen.map((it) => {
    const doc = it.doc.clone();
    from.set(doc, it);
    return doc;
  });
  const out = await runner({ items: copies, functionConfig: config, paths: chosen.map((it) => (dir ? (it.path ?? '').slice(dir.length + 1) : (it.path ?? ''))) });
  const mapped = out.items.map((doc) => {
    const it = from.get(doc);
    return it ? { ...it, doc } : { doc, path: `${dir ? `${dir}/` : ''}${defaultPath(doc)}` };
  });
  return { ...out, mapped };
}

function resultList(items: FunctionResult[]): FunctionResultList {
  return { apiVersion: 'kpt.dev/v1', kind: 'FunctionResultList', metadata: { name: 'fnresults' }, exitCode: items.some((i) => i.exitCode !== 0) ? 1 : 0, items };
}

/**
 * Runs every Kptfile pipeline of the package as `kpt fn render` does and returns the rendered files
 * with each function's results. Throws RenderError, carrying the results so far, when a pipeline is
 * refused or a function fails; the input is never modified.
 */
export async function render(files: PackageFiles, opts: RenderOptions): Promise<RenderResult> {
  const nodes = readPipelines(files);
  const read = await readPackage(files);
  let items: KrmItem[] = read.items;
  const results: FunctionResult[] = [];
  for (const { dir, pipeline } of nodes) {
    const steps = [...pipeline.mutators.map((fn) => ({ fn, mutate: true })), ...pipeline.validators.map((fn) => ({ fn, mutate: false }))];
    for (const { fn, mutate } of steps) {
      opts.signal?.throwIfAborted();
      const { runtime, runner } = findRunner(opts.runtimes, fn.image);
      const config = functionConfig(files, dir, fn);
      const chosen = items.filter((it) => inside(dir, it.path ?? '') && selected(it.doc, fn));
      const record: FunctionResult = { image: fn.image, exitCode: 0 };
      results.push(record);
      try {
        const out = runtime.inProcess ? await runInProcess(runner, chosen, dir, config) : await runner({ items: chosen.map((it, id) => annotate(it, dir, id)), functionConfig: config, signal: opts.signal });
        if (out.results.length) record.results = out.results;
        if (out.log) record.stderr = out.log;
        if (mutate) {
          const picked = new Set(chosen);
          items = [...items.filter((it) => !picked.has(it)), ...(runtime.inProcess ? (out as InProcessOutput).mapped : out.items.map((d) => unannotate(d, dir, chosen)))];
        }
      } catch (err) {
        if (!(err instanceof FunctionFailure)) throw err;
        record.exitCode = err.exitCode;
        if (err.results.length) record.results = err.results;
        if (err.log) record.stderr = err.log;
        const label = fn.name ? `${fn.name} (${fn.image})` : fn.image;
        throw new RenderError(err instanceof RuntimeUnavailable ? 'runtime-unavailable' : 'function-failed', `package "${dir || '.'}": function "${label}" failed: ${err.message}`, fn.image, resultList(results));
      }
      // Functions run back to back on a large package would hold the event loop for their whole run.
      await (opts.pause ? opts.pause() : yieldToLoop());
    }
  }
  return { files: await writePackage(files, read, items), results: resultList(results) };
}

export type RenderOutcome = (RenderResult & { error?: undefined }) | { files: PackageFiles; results: FunctionResultList; error: RenderError };

/**
 * render() for callers that report a failure instead of failing (Porch's renderStatus, and
 * push-on-render-failure): on a RenderError the files are the input, unrendered, with the error and
 * the results of the functions that ran. Other errors (a bug, a cancelled render) still throw.
 */
export async function tryRender(files: PackageFiles, opts: RenderOptions): Promise<RenderOutcome> {
  try {
    return await render(files, opts);
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    return { files, results: err.results ?? resultList([]), error: err };
  }
}
