import { RenderError } from './errors.ts';
import type { FileContent } from './types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text; bytes that are not UTF-8 cannot be a resource, so reading them as one fails the render. */
export function textOf(path: string, content: FileContent): string {
  if (typeof content === 'string') return content;
  try {
    return utf8.decode(content);
  } catch {
    throw new RenderError('invalid-resources', `${path} is not valid UTF-8`);
  }
}
