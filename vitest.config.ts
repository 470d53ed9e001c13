// Test configuration: every test under test/, none elsewhere (scratch/ and dist/ excluded).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The README's examples import the package by name; tests run them against the source.
  resolve: { alias: { 'graph-run': new URL('./runtime/index.ts', import.meta.url).pathname } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'scratch/**'],
    testTimeout: 60_000,
  },
});
