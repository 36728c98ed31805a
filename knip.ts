// knip (`npm run lint:unused`): unused files, exports and dependencies. Everything that is not
// reachable from an entry point below is dead code.
import type { KnipConfig } from 'knip';

const config: KnipConfig = {
  entry: [
    // cli/vovc.ts comes in through package.json's "bin" (dist/cli/vovc.js, mapped back to the
    // source through tsconfig's outDir). Each command module is loaded by a template-string
    // import (`./commands/${name}.js`), which no tool can follow: they are entries themselves.
    'cli/commands/*.ts',
    // Scripts run with node directly (npm run bench / fuzz / templates). They import the library
    // from dist/, which knip maps back to src/ only once dist/ exists: build first.
    'bench/**/*.mjs',
    'fuzz/**/*.mjs',
    'scripts/*.mjs',
    // Generated template specs, loaded at run time by path (src/codegen/templates.ts).
    'templates/precompiled.cjs',
  ],
  // The tests (test/**/*.test.ts) are entries through the vitest plugin, read from vitest.config.ts.
  project: [
    'src/**/*.ts',
    'cli/**/*.ts',
    'test/**/*.{ts,mjs}',
    'bench/**/*.mjs',
    'fuzz/**/*.mjs',
    'scripts/*.mjs',
    // Fixture trees of the layering test: fake src/ folders, not part of the project.
    '!test/layering/fixtures/**',
  ],
  // An exported type that its own module's exported functions use is part of that module's
  // API (a parameter or result type), even when no other file names it.
  ignoreExportsUsedInFile: { interface: true, type: true },
  ignoreIssues: {
    // The worker runs these functions as source text (WORKER_FUNCTIONS, stringified by
    // worker.ts): they are exported for that list and for the tests, and some have no importer.
    'src/runtime/gemm.ts': ['exports'],
  },
  ignoreDependencies: [
    // Loaded with createRequire(import.meta.url)('webgpu') in src/codegen/wgsl/dawn.ts, so that
    // a machine without Dawn fails with a diagnostic instead of at import time.
    'webgpu',
    // Served to headless Chromium from node_modules/onnxruntime-web/dist by bench/wgsl/bench.mjs.
    'onnxruntime-web',
  ],
  // System tools the tests spawn (the CUDA ones when present, they skip otherwise; mkfifo from
  // coreutils for the special-file tests, strace for the commit's fault injection); not npm packages.
  ignoreBinaries: [/^g\+\+$/, 'nvcc', 'nvidia-smi', 'mkfifo', 'strace'],
};

export default config;
