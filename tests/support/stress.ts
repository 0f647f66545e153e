// `npm test` runs each stress case at the size that proves its property; `npm run test:stress`
// (vitest.stress.config.ts, PORCH_STRESS=1) runs the large versions.

export const STRESS = process.env.PORCH_STRESS === '1';

/** `small` in the everyday suite, `large` under test:stress. */
export function stressSize<T>(small: T, large: T): T {
  return STRESS ? large : small;
}
