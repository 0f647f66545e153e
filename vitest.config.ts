import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './tests/support/sequencer.ts';

// Budgets are for a busy 2-core CI machine, where a dev server can take many seconds to start and a
// git command a second: tests wait on conditions, and these limits only end a test that hangs.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Servers, git daemons and child processes stopped in afterAll may take a while on a busy machine.
    teardownTimeout: 60_000,
    pool: 'forks',
    // End-to-end tests spend much of their time waiting on kubectl, git and server processes: a third
    // file alongside keeps two cores busy (measured on an idle 2-core machine: 231 s against 248 s).
    maxWorkers: 3,
    minWorkers: 1,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['tests/support/server-bundle.ts'],
  },
});
