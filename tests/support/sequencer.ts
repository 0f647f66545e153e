import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The longest files are the end-to-end ones (servers, kubectl, git): they start first, so the run does
// not end waiting on one of them while the other workers are idle. Within a group vitest's own order
// holds (failed and longest first once it has timings; on a fresh clone it has none).
const GROUPS = [/\/tests\/e2e\//, /\/tests\/robustness\//, /\/tests\/handlers\//];

function group(spec: TestSpecification): number {
  const i = GROUPS.findIndex((re) => re.test(spec.moduleId));
  return i < 0 ? GROUPS.length : i;
}

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    return base.map((spec, i) => ({ spec, i })).sort((a, b) => group(a.spec) - group(b.spec) || a.i - b.i).map((x) => x.spec);
  }
}
