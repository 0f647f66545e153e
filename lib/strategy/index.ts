import type { ResourceDescriptor } from '../api/resources.ts';
import { namespaceStrategy, secretStrategy } from './core.ts';
import { repositoryStrategy } from './repository.ts';
import type { Strategy } from './types.ts';

const BY_KIND: Record<string, Strategy> = {
  Repository: repositoryStrategy,
  Secret: secretStrategy,
  Namespace: namespaceStrategy,
};

export function strategyFor(res: ResourceDescriptor): Strategy {
  return BY_KIND[res.kind] ?? {};
}
