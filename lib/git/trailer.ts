import { isRecord } from '../util.ts';

// Porch records which package revision a commit belongs to in the commit message itself: a line
// `kpt:<json>` appended after a blank line. The JSON is Go's encoding of
//   { package, workspaceName, revision, task }   (all omitempty, in that order)
// so the writer below reproduces Go's field order, omission of empty values and its HTML-safe escaping,
// keeping commits byte-identical to what Porch itself would write for the same content.

export interface Trailer {
  /** Full package path from the repository root (directory included). */
  package: string;
  workspaceName: string;
  /** The revision as a decimal string ("0" for drafts); "" when absent. */
  revision: string;
  task?: Record<string, unknown>;
}

/** Go's json.Marshal escapes these even inside strings; JSON.stringify does not. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The annotation line, `kpt:{…}`, without a newline. */
export function formatTrailer(trailer: Trailer): string {
  const o: Record<string, unknown> = {};
  if (trailer.package) o.package = trailer.package;
  if (trailer.workspaceName) o.workspaceName = trailer.workspaceName;
  if (trailer.revision) o.revision = trailer.revision;
  if (trailer.task) o.task = trailer.task;
  return `kpt:${goJson(o)}`;
}

/** `message`, a blank line, then the annotation line: what Porch's annotateCommitMessage produces. */
export function formatCommitMessage(headline: string, trailer: Trailer): string {
  return `${headline}\n\n${formatTrailer(trailer)}\n`;
}

const HEADLINES: Record<string, string> = {
  init: 'Creating new empty revision',
  render: 'Rendering package',
  edit: 'Creating new revision by copying previous revision',
  clone: 'Creating new revision by cloning',
  upgrade: 'Upgrading revision',
};

/** Porch's headline for a draft commit made by a change of this task type ("" or undefined: none). */
export function commitHeadline(taskType: string | undefined): string {
  if (!taskType) return 'Intermediate commit';
  return HEADLINES[taskType] ?? `Intermediate commit: ${taskType}`;
}

/**
 * A draft/proposed commit message exactly as Porch writes it: the headline gets its own newline
 * before the annotation is appended, so two blank lines separate them.
 */
export function draftCommitMessage(trailer: Trailer): string {
  const type = typeof trailer.task?.type === 'string' ? trailer.task.type : undefined;
  return formatCommitMessage(`${commitHeadline(type)}\n`, trailer);
}

/** The approval (publish) merge commit message: no task in the annotation. */
export function approvalCommitMessage(fullPath: string, revision: number, workspaceName: string): string {
  return formatCommitMessage(`Approving package revision ${fullPath}/${revision}`, { package: fullPath, workspaceName, revision: String(revision) });
}

/** Porch's message when a package is removed from the registered branch (no annotation). */
export function deleteCommitMessage(fullPath: string): string {
  return `Delete ${fullPath}`;
}

function toTrailer(v: unknown): Trailer | undefined {
  if (!isRecord(v)) return undefined;
  const str = (x: unknown) => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : '');
  return {
    package: str(v.package),
    workspaceName: str(v.workspaceName),
    revision: str(v.revision),
    task: isRecord(v.task) ? v.task : undefined,
  };
}

/** Every well-formed `kpt:` annotation of a message, in order (malformed ones are skipped, as Porch does). */
export function parseTrailers(message: string): Trailer[] {
  const out: Trailer[] = [];
  // Cheap rejection: most commits in a busy repository are ours and all have one, but callers walk
  // history and see plenty of foreign commits too.
  if (!message.includes('kpt:')) return out;
  for (const raw of message.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('kpt:')) continue;
    try {
      const t = toTrailer(JSON.parse(line.slice(4)));
      if (t) out.push(t);
    } catch {
      // not JSON: ignored
    }
  }
  return out;
}

/** The last well-formed annotation of a commit message, if it has one. */
export function parseTrailer(message: string): Trailer | undefined {
  const all = parseTrailers(message);
  return all[all.length - 1];
}
