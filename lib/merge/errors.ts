/**
 * A package upgrade that cannot be done as asked: the local package changed under fast-forward,
 * a file is not valid YAML, a resource appears twice, or one field holds different kinds of value
 * (a map locally, a list upstream). The message names the file and field so a user can fix it.
 */
export class MergeError extends Error {
  override readonly name = 'MergeError';
  readonly reason: 'local-changes' | 'invalid-yaml' | 'duplicate-resource' | 'kind-conflict';

  constructor(reason: MergeError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}
