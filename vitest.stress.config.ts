import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The same suite with the large stress cases (tests/support/stress.ts): more kills, the whole
// malformed-request corpus, bigger fixtures. Budgets are larger to match.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      env: { PORCH_STRESS: '1' },
      testTimeout: 600_000,
      hookTimeout: 600_000,
    },
  }),
);
