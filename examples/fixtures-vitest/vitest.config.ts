import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    maxWorkers: 3,        // each worker gets its own clone of the template database
    fileParallelism: true,
  },
});
