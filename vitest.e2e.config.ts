import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 600000,
    hookTimeout: 1200000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
  },
});
