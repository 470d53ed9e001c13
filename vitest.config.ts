// Test configuration: every test under test/, none elsewhere (scratch/ and dist/ excluded).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'scratch/**'],
    testTimeout: 60_000,
  },
});
