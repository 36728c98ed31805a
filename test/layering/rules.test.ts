// The layering rules of .dependency-cruiser.cjs (npm run lint:deps), proved on small fixture
// trees (test/layering/fixtures/<name>/, each a fake repository root with src/ and cli/): the
// project's own config, run with the fixture as the base directory, must report exactly the
// edges it forbids, and nothing on a tree that follows the architecture.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'layering', 'fixtures');
const OPTIONS = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));

async function violations(fixture: string, overrides: ICruiseOptions = {}): Promise<IViolation[]> {
  const baseDir = join(FIXTURES, fixture);
  // The same folders as lint:deps, where the fixture has them.
  const roots = ['src', 'cli'].filter((d) => existsSync(join(baseDir, d)));
  const { output } = await cruise(roots, { ...OPTIONS, ...overrides, baseDir });
  return (output as ICruiseResult).summary.violations;
}

/** `rule: from -> to`, sorted: one line per forbidden edge. */
const edges = (vs: IViolation[]) => vs.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();

describe('layering rules (.dependency-cruiser.cjs)', () => {
  it('accept a tree that follows the architecture (type-only, dynamic and template-string imports, the registry above the backends)', async () => {
    expect(edges(await violations('clean'))).toEqual([]);
  });

  it('report every forbidden edge, whatever kind of import makes it', async () => {
    expect(edges(await violations('layers'))).toEqual(
      [
        // a backend renders the plan
        'codegen-renders-plan: src/codegen/bad.ts -> src/passes/p.ts',
        'codegen-renders-plan: src/codegen/bad.ts -> src/dsl/d.ts',
        'codegen-renders-plan: src/codegen/bad.ts -> src/model/m.ts',
        'codegen-renders-plan: src/codegen/bad.ts -> src/analysis/a.ts',
        // backends and the interpreter implement the contract, not the registry or the driver
        'backends-implement-contract-only: src/codegen/bad.ts -> src/targets/registry.ts',
        'backends-implement-contract-only: src/codegen/bad.ts -> src/driver/d.ts',
        'backends-implement-contract-only: src/runtime/bad.ts -> src/targets/registry.ts',
        'backends-implement-contract-only: src/runtime/bad.ts -> src/driver/d.ts',
        // the plan reads optimized IR
        'plan-reads-optimized-ir: src/plan/bad.ts -> src/passes/p.ts',
        'plan-reads-optimized-ir: src/plan/bad.ts -> src/codegen/c.ts',
        // the interpreter is no backend
        'runtime-not-a-backend: src/runtime/bad.ts -> src/codegen/c.ts',
        // passes work on the IR
        'passes-work-on-ir: src/passes/bad.ts -> src/plan/p.ts',
        'passes-work-on-ir: src/passes/bad.ts -> src/codegen/c.ts',
        // the IR is the bottom
        'ir-imports-nothing-above: src/ir/bad.ts -> src/passes/p.ts',
        'ir-imports-nothing-above: src/ir/bad.ts -> src/plan/p.ts',
        'ir-imports-nothing-above: src/ir/bad.ts -> src/codegen/c.ts',
        'ir-imports-nothing-above: src/ir/bad.ts -> src/dsl/d.ts',
        'ir-imports-nothing-above: src/ir/bad.ts -> src/model/m.ts',
        // the library never imports the command line
        'library-not-cli: src/util/bad.ts -> cli/c.ts',
        // no stage of the compiler imports the analysis
        'analysis-reads-only: src/codegen/bad.ts -> src/analysis/a.ts',
        // only the command line (and the library entry) call the driver
        'one-driver: src/codegen/bad.ts -> src/driver/d.ts',
        'one-driver: src/runtime/bad.ts -> src/driver/d.ts',
      ].sort(),
    );
  });

  it('report a cycle that exists only through an `import type` and an import() thunk', async () => {
    const found = await violations('cycle');
    expect(found.map((v) => v.rule.name)).toEqual(['no-circular']);
    const cycle = found[0]!.cycle!;
    // .js specifiers (NodeNext) resolved to the .ts files
    expect(cycle.map((c) => c.name).sort()).toEqual(['src/codegen/backend.ts', 'src/codegen/onnx/emit.ts', 'src/codegen/onnx/index.ts']);
    const kinds = new Set(cycle.flatMap((c) => c.dependencyTypes));
    expect(kinds.has('type-only')).toBe(true);
    expect(kinds.has('dynamic-import')).toBe(true);
  });

  it('see that cycle only because type-only imports are taken from the TypeScript source (tsPreCompilationDeps)', async () => {
    expect(OPTIONS.tsPreCompilationDeps).toBe(true);
    expect(await violations('cycle', { tsPreCompilationDeps: false })).toEqual([]);
  });

  it('report an import that resolves to nothing and a file nothing uses', async () => {
    expect(edges(await violations('loose'))).toEqual([
      'no-orphans: src/ir/alone.ts -> src/ir/alone.ts',
      'not-to-unresolvable: src/ir/verify.ts -> ./nowhere.js',
    ]);
  });
});
