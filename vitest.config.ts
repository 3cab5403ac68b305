import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/matrix/**', '**/node_modules/**'], // npm run test:matrix (vitest.matrix.config.ts)
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Node 20 runs relaxed SIMD only behind this flag; with it the suites cover every wasm build
    // (relaxed-simd, simd, scalar). Spawned CLI processes run without it and so use the simd build.
    poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } },
  },
});
