import { isRecord } from '../util.ts';

export interface Trailer {
  package: string;
  workspaceName: string;
  revision: string;
  task?: Record<string, unknown>;
}

/** A headline, a blank line, then Porch's `kpt:{…}` annotation line. */
export function formatCommitMessage(headline: string, trailer: Trailer): string {
  const t: Record<string, unknown> = { package: trailer.package, workspaceName: trailer.workspaceName, revision: trailer.revision };
  if (trailer.task) t.task = trailer.task;
  return `${headline}\n\nkpt:${JSON.stringify(t)}\n`;
}

/** The last `kpt:{…}` annotation of a commit message, if it has one. */
export function parseTrailer(message: string): Trailer | undefined {
  const lines = message.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith('kpt:{')) continue;
    try {
      const v: unknown = JSON.parse(line.slice(4));
      if (!isRecord(v)) return undefined;
      return {
        package: String(v.package ?? ''),
        workspaceName: String(v.workspaceName ?? ''),
        revision: String(v.revision ?? ''),
        task: isRecord(v.task) ? v.task : undefined,
      };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
