// Shared vitest settings: tests import packages through their public entry; the "source"
// export condition points it at TypeScript sources, so tests never run against stale builds.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // ONNX Runtime's telemetry client writes mat-debug-<pid>.log and .ses into the temp folder of
    // every process that opens a session (tests that import onnxruntime-node directly included).
    env: { ORT_DISABLE_TELEMETRY: '1' },
    // Each run works in its own temp folder, removed at the end: tests leave nothing in the system's.
    globalSetup: [fileURLToPath(new URL('./tools/vitest-temp-folder.ts', import.meta.url))],
  },
});
