import type { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';
import approvePackageRevision from './approve-packagerevision.ts';
import createPackageRevision from './create-packagerevision.ts';
import deletePackageRevision from './delete-packagerevision.ts';
import getPackage from './get-package.ts';
import getPackageRevision from './get-packagerevision.ts';
import getPackageRevisionResources from './get-packagerevisionresources.ts';
import listPackageRevisionResources from './list-packagerevisionresources.ts';
import listPackageRevisions from './list-packagerevisions.ts';
import listPackages from './list-packages.ts';
import patchPackageRevision from './patch-packagerevision.ts';
import updatePackageRevision from './update-packagerevision.ts';
import updateResources from './update-resources.ts';

/** The handlers of engine-served resources (porch.kpt.dev), each its own file. */
export const ENGINE_HANDLERS: ((ctx: AppContext) => Hono<HandlerEnv>)[] = [
  listPackageRevisions,
  getPackageRevision,
  createPackageRevision,
  updatePackageRevision,
  patchPackageRevision,
  deletePackageRevision,
  approvePackageRevision,
  listPackageRevisionResources,
  getPackageRevisionResources,
  updateResources,
  listPackages,
  getPackage,
];
