import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests beside the code, and integration tests in test/ that start a real stack.
// Integration tests share a machine with two cores and real JVMs, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'harness/**/*.test.ts',
            'generators/**/*.test.ts',
            'reference-pipeline/**/*.test.ts',
            'reports/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
