// The runtime and browser matrix (test/matrix/), run by `npm run test:matrix` (.ci/run, after `npm test`): not
// part of `npm test`, because it needs Firefox ESR, WebKitGTK and xvfb from apt and ~600 MB of runtimes from npm.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/matrix/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
