// Writes, for every benchmark case, the CUDA artifact built without weights plus recipe.json:
// how to make each packed parameter of the blob from a state dict in the model's own
// checkpoint naming (a plain copy, or a BatchNorm folded into its conv, as fold-bn does), so
// that run.py can write the blob from a seeded PyTorch model on a machine without Node.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const { loadModel } = await dist('src/dsl/zoo.js');
const { lowerSpec } = await dist('src/model/lower.js');
const { Pipeline } = await dist('src/driver/pipeline.js');
const { conventionKeys } = await dist('src/model/naming.js');
const { cudaWeightLayout } = await dist('src/codegen/cuda/render.js');

// Every case at every precision: fp32 (SIMT kernels), tf32, fp16, bf16 (tensor cores).
const PRECISIONS = ['fp32', 'tf32', 'fp16', 'bf16'];

// [model, torch source, input shapes]
const CASES = [
  ['vovnet57a', 'timm', [[1, 3, 224, 224], [32, 3, 224, 224]]],
  ['ese_vovnet39b', 'timm', [[1, 3, 224, 224], [32, 3, 224, 224]]],
  ['V-99-eSE', 'reference', [[1, 3, 320, 800]]],
];

const travel = process.argv[2];
const manifest = [];
for (const [model, source, shapes] of CASES) {
  for (const shape of shapes) for (const precision of PRECISIONS) {
    const id = `${model}-${shape.join('x')}-${precision}`;
    const dir = join(travel, 'artifacts', id);
    execFileSync(process.execPath, [join(root, 'dist/cli/vovc.js'), 'build', model, '--target', 'cuda', '--precision', precision, '--no-weights', '--input-shape', shape.join(','), '--out', dir, '-q'], { stdio: 'inherit' });
    const graph = lowerSpec(loadModel(model, { inputShape: shape }).spec);
    const pipeline = new Pipeline(graph, { passes: { log: () => undefined }, precision });
    const optimized = pipeline.optimized().graph;
    const plan = pipeline.plan();
    const keys = conventionKeys(graph.params.keys(), graph.meta.naming);
    const key = (canonical) => {
      const k = keys.get(canonical);
      if (!k) throw new Error(`${model}: no ${graph.meta.naming} key for ${canonical}`);
      return k;
    };
    // The unoptimized conv that owns a (possibly folded) parameter, and the batchnorm after it.
    const byWeight = new Map(), byBias = new Map();
    for (const n of optimized.nodes) {
      if (n.op !== 'conv2d') continue;
      const orig = graph.nodes.find((m) => m.id === n.id && m.op === 'conv2d');
      const bn = orig && graph.nodes.find((m) => m.op === 'batchnorm' && m.inputs[0] === orig.id);
      const folded = bn && n.params.bias && !orig.params.bias;
      if (!folded) continue;
      const bnKeys = Object.fromEntries(Object.entries(bn.params).map(([r, p]) => [r, key(p)]));
      byWeight.set(n.params.weight, { fold: 'weight', conv: key(orig.params.weight), bn: bnKeys, eps: bn.attrs.eps });
      byBias.set(n.params.bias, { fold: 'bias', bn: bnKeys, eps: bn.attrs.eps });
    }
    // The artifact's own blob layout: tensor-core conv weights are [COUT][pitch] rows, zero padded.
    const layout = cudaWeightLayout(plan);
    const entries = plan.weights.entries.map((e) => ({
      offset: layout.offset.get(e.name),
      numel: e.numel,
      shape: e.shape,
      ...(layout.pitch.has(e.name) ? { pitch: layout.pitch.get(e.name) } : {}),
      ...(byWeight.get(e.name) ?? byBias.get(e.name) ?? { copy: key(e.name) }),
    }));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'recipe.json'), JSON.stringify({ model, precision, dtype: plan.weights.dtype, totalElements: layout.totalElements, entries }));
    manifest.push({ id, model, source, shape, precision, outputs: plan.outputs.map((o) => ({ name: o.name, shape: o.shape })), config: model.startsWith('V-') ? model : null });
    console.log(`prepared ${id}: ${plan.launches.length} launches, ${layout.totalElements} weight elements (${plan.weights.dtype})`);
  }
}
writeFileSync(join(travel, 'manifest.json'), JSON.stringify(manifest, null, 1));
