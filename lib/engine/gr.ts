import { PORCH_GROUP } from '../api/porch.ts';

export const PR_GR = { group: PORCH_GROUP, resource: 'packagerevisions' };
export const PRR_GR = { group: PORCH_GROUP, resource: 'packagerevisionresources' };
export const PKG_GR = { group: PORCH_GROUP, resource: 'packages' };
