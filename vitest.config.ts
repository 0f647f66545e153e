import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // End-to-end tests start servers and git daemons: two at a time suits a 2-core machine.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
});
