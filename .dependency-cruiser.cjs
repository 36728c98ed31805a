// The layering of docs/ARCHITECTURE.md as rules that dependency-cruiser checks (`npm run lint:deps`).
// Data flows one way: text -> AST -> IR -> optimized IR -> plan -> artifact. A folder may
// import what comes before it in that chain, never what comes after it. Analysis reads the IR
// and the plan and never feeds back. test/layering/rules.test.ts proves each rule fires on a
// small fixture tree.
//
// Paths are relative to the directory dependency-cruiser runs in (the repository root, or a
// fixture's root in the tests), so every pattern starts at `src/` or `cli/`.
'use strict';

/** One forbidden rule: files matching `from` may not import files matching `to`. */
function layer(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from }, to: { path: to } };
}

module.exports = {
  forbidden: [
    layer(
      'codegen-renders-plan',
      'A backend only renders the KernelPlan: it does not optimize (passes), never sees source text (dsl), ' +
        'does not lower specs (model) and does not recompute costs (analysis).',
      '^src/codegen/',
      '^src/(passes|dsl|model|analysis)/',
    ),
    layer(
      'plan-reads-optimized-ir',
      'The plan is built from IR that is already optimized: it does not call passes, and it knows no backend.',
      '^src/plan/',
      '^src/(passes|codegen)/',
    ),
    layer(
      'runtime-not-a-backend',
      'The reference interpreter executes any IR on the CPU as the independent oracle; it is not part of ' +
        'the backend registry and imports nothing from src/codegen/.',
      '^src/runtime/',
      '^src/codegen/',
    ),
    layer(
      'passes-work-on-ir',
      'A pass is a pure function Graph -> Graph: it works on the IR only and knows neither the plan nor a backend.',
      '^src/passes/',
      '^src/(plan|codegen)/',
    ),
    layer(
      'ir-imports-nothing-above',
      'The graph IR is the bottom of the pipeline: it imports nothing above it (passes, plan, codegen, ' +
        'and not the DSL or the ModelSpec interface that lower into it).',
      '^src/ir/',
      '^src/(passes|plan|codegen|dsl|model)/',
    ),
    layer(
      'library-not-cli',
      'cli/ is argument parsing only and calls the library; the library never imports the command line.',
      '^src/',
      '^cli/',
    ),
    // A backend and the interpreter implement the contract in src/targets/contract.ts and
    // nothing else of src/targets/; the registry and the driver sit above them and import them,
    // never the other way round.
    layer(
      'backends-implement-contract-only',
      'Backends (src/codegen/) and the interpreter (src/runtime/) implement src/targets/contract.ts; ' +
        'they never import the registry of targets or the driver that sit above them.',
      '^src/(codegen|runtime)/',
      '^src/(driver/|targets/registry\\.ts$)',
    ),
    layer(
      'analysis-reads-only',
      'The analysis reads what the driver made (graphs, plans, pass records) and never feeds back: ' +
        'no stage of the compiler imports it.',
      '^src/(ir|dsl|model|weights|passes|plan|codegen|runtime|targets)/',
      '^src/analysis/',
    ),
    layer(
      'one-driver',
      'The driver (src/driver/) runs the pipeline once per command; only the command line and the ' +
        'library entry (src/index.ts) call it.',
      '^src/(?!driver/|index\\.ts$)',
      '^src/driver/',
    ),
    {
      name: 'no-circular',
      comment:
        'Data flows one way, so no file may depend on itself through others. Type-only imports count ' +
        '(a layer that needs another layer\'s types depends on it) and so do lazy import() thunks.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A file nothing imports and that imports nothing is dead or misplaced (knip reports unused files in detail).',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.d\\.ts$',
          // Build-time only: scripts/templates.mjs imports it from dist/ (npm run templates).
          '^src/codegen/wgsl/host-template\\.ts$',
        ],
      },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve to a file or an installed package, or the build and the layering check are both blind to it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports (`import type`, `import { type X }`) are erased by tsc, but they are
    // dependencies between layers all the same: take them from the TypeScript source.
    tsPreCompilationDeps: true,
    // Packages and Node builtins are leaves: the rules are about our own folders.
    doNotFollow: { path: ['node_modules'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
