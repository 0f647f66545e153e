import { PORCH_GROUP } from '../api/porch.ts';
import { errors, StatusError } from '../errors.ts';
import { builtinRuntime, readPipelines, render, RenderError, type FunctionResultList, type FunctionRuntime, type PackageFiles } from '../render/index.ts';
import { budgetExceeded, TimeBudget } from '../time-budget.ts';
import { TimeSlice } from '../yield.ts';

/** PackageRevisionResources `status.renderStatus`, as Porch reports it. */
export interface RenderStatus {
  result: FunctionResultList;
  error: string;
}

export interface RenderedContents {
  files: Record<string, string>;
  renderStatus: RenderStatus;
}

/** With this annotation on the PackageRevision a failed render saves the unrendered contents (Porch's). */
export const PUSH_ON_RENDER_FAILURE = 'porch.kpt.dev/push-on-render-failure';

/** Wall time one request's render may take: long enough for external functions (each has its own timeout). */
export const DEFAULT_RENDER_BUDGET_MS = 120_000;

const WHAT = 'rendering the package';

function emptyResults(): FunctionResultList {
  return { apiVersion: 'kpt.dev/v1', kind: 'FunctionResultList', metadata: { name: 'fnresults' }, exitCode: 0, items: [] };
}

/** Every file the engine hands over is text, so every file a render returns is too. */
function asText(files: Readonly<Record<string, string | Uint8Array>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) out[path] = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  return out;
}

/**
 * A render failure as the request's answer. A pipeline the server will not run (malformed, an
 * `exec:`, an image nothing serves) or contents that are not KRM are invalid input: 422. A function
 * that ran and failed is a denial of the contents, as an admission webhook's is in kube-apiserver:
 * 400; an unreachable function runner is 503. The message keeps Porch's opening and names the function and its error.
 */
export function renderFailure(kind: 'PackageRevision' | 'PackageRevisionResources', name: string, err: RenderError): StatusError {
  if (err.reason === 'function-failed') return errors.badRequest(err.message);
  // Porch's function runner down or restarting: the same request can succeed in a moment.
  if (err.reason === 'runtime-unavailable') return errors.unavailable(err.message, 5);
  const field = err.reason === 'invalid-resources' ? 'spec.resources' : 'spec.resources[Kptfile]';
  return new StatusError(422, 'Invalid', err.message, { name, group: PORCH_GROUP, kind, causes: [{ reason: 'FieldValueInvalid', field, message: err.message }] });
}

export interface DraftRendererOptions {
  /** Asked in order for each image; default: the built-in functions only. */
  runtimes?: readonly FunctionRuntime[];
  budgetMs?: number;
}

/**
 * The render step of every draft write: new contents in, the contents to commit out. It writes
 * nothing, so a caller can run it and stop short of the write (dry run).
 */
export class DraftRenderer {
  private readonly runtimes: readonly FunctionRuntime[];
  private readonly budgetMs: number;

  constructor(opts: DraftRendererOptions = {}) {
    this.runtimes = opts.runtimes ?? [builtinRuntime()];
    this.budgetMs = opts.budgetMs ?? DEFAULT_RENDER_BUDGET_MS;
  }

  /**
   * Renders `files`. A failure throws the request's Status error, unless `pushOnFailure`: then the
   * files come back unrendered with the error in the renderStatus.
   */
  async render(kind: 'PackageRevision' | 'PackageRevisionResources', name: string, files: Record<string, string>, pushOnFailure: boolean): Promise<RenderedContents> {
    try {
      // A package without functions has nothing to run: its files are committed exactly as given.
      if (!readPipelines(files).some((n) => n.pipeline.mutators.length + n.pipeline.validators.length > 0))
        return { files, renderStatus: { result: emptyResults(), error: '' } };
      return await this.run(files);
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      if (!pushOnFailure) throw renderFailure(kind, name, err);
      return { files, renderStatus: { result: err.results ?? emptyResults(), error: err.message } };
    }
  }

  private async run(files: PackageFiles): Promise<RenderedContents> {
    const budget = new TimeBudget(this.budgetMs);
    const slice = new TimeSlice(budget, WHAT);
    // External functions see the deadline as a cancellation; in-process work checks it between functions.
    const signal = AbortSignal.timeout(this.budgetMs);
    try {
      const out = await render(files, { runtimes: this.runtimes, signal, pause: () => slice.tick() });
      return { files: asText(out.files), renderStatus: { result: out.results, error: '' } };
    } catch (err) {
      if (signal.aborted && !(err instanceof StatusError)) throw budgetExceeded(WHAT, this.budgetMs);
      throw err;
    }
  }
}
