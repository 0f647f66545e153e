import { applyReplacements } from './apply-replacements.ts';
import { applySetters } from './apply-setters.ts';
import { ensureNameSubstring } from './ensure-name-substring.ts';
import type { BuiltinEntry } from './registry-types.ts';
import { searchReplace } from './search-replace.ts';
import { setAnnotations } from './set-annotations.ts';
import { setImage } from './set-image.ts';
import { setLabels } from './set-labels.ts';
import { setNamespace } from './set-namespace.ts';

/** The catalog functions linked into the server, with the tags whose behaviour each follows. */
export const BUILTINS: readonly BuiltinEntry[] = [
  { name: 'set-namespace', tags: /^v0\.4(\.\d+)?$/, accepted: 'v0.4, v0.4.x', fn: setNamespace },
  { name: 'set-labels', tags: /^v0\.2(\.\d+)?$/, accepted: 'v0.2, v0.2.x', fn: setLabels },
  { name: 'set-annotations', tags: /^v0\.1(\.\d+)?$/, accepted: 'v0.1, v0.1.x', fn: setAnnotations },
  { name: 'set-image', tags: /^v0\.1(\.\d+)?$/, accepted: 'v0.1, v0.1.x', fn: setImage },
  { name: 'apply-replacements', tags: /^v0\.1(\.\d+)?$/, accepted: 'v0.1, v0.1.x', fn: applyReplacements },
  { name: 'apply-setters', tags: /^v0\.2(\.\d+)?$/, accepted: 'v0.2, v0.2.x', fn: applySetters },
  { name: 'search-replace', tags: /^v0\.2(\.\d+)?$/, accepted: 'v0.2, v0.2.x', fn: searchReplace },
  { name: 'ensure-name-substring', tags: /^v0\.2(\.\d+)?$/, accepted: 'v0.2, v0.2.x', fn: ensureNameSubstring },
];
