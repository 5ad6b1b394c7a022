import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // workflow-parser imports its JSON schemas without import attributes, which
    // Node refuses; letting Vite transform it makes those imports work.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
