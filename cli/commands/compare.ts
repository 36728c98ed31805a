// vovc compare MODEL --weights W --input X --reference R: vovc's layer outputs against a PyTorch
// hook dump of the checkpoint's own code base, module by module (src/driver/compare.ts,
// docs/COMPARE.md). Exit 0 when every module passes, 1 when one fails, 2 for bad usage.
import { writeFileSync } from 'node:fs';
import { isPrecision, type Precision } from '../../src/ir/precision.js';
import { MODEL_OPTIONS, WEIGHT_OPTIONS, UsageError, parse, reporter, requireModel, weightOptions, type Command } from '../common.js';

const USAGE = `usage: vovc compare MODEL --weights FILE --input X.npy --reference DIR|FILE.npz|FILE.safetensors [--opt] [--atol A] [--rtol R] [--precision P] [--json]
  --reference  the checkpoint code base's module outputs for X: <module path>.npy files (a '/' as %2F), or one .npz / .safetensors keyed by module path
  --opt        compare the optimized graph (fused intermediates are "not observable")
  --atol, --rtol  elementwise tolerance (default 1e-4 each); --precision P: compare.py's reduced-precision rule at P
  --json       the table as JSON`;

export const command: Command = {
  async run(args) {
    const r = parse(args, { ...MODEL_OPTIONS, ...WEIGHT_OPTIONS, input: { type: 'string' }, reference: { type: 'string' }, opt: { type: 'boolean' }, atol: { type: 'string' }, rtol: { type: 'string' }, precision: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
    if (!r) return 0;
    const v = r.values as Record<string, unknown>;
    const model = requireModel(r.positionals, USAGE);
    if (!v.input) throw new UsageError(`missing --input X.npy\n\n${USAGE}`);
    if (!v.reference) throw new UsageError(`missing --reference DIR|FILE\n\n${USAGE}`);
    const num = (k: string, d: number) => {
      if (v[k] === undefined) return d;
      const x = Number(v[k]);
      if (!(x >= 0) || !Number.isFinite(x)) throw new UsageError(`--${k} must be a non-negative number, got '${v[k] as string}'`);
      return x;
    };
    const precision = v.precision === undefined ? undefined : String(v.precision);
    if (precision !== undefined && !isPrecision(precision)) throw new UsageError(`--precision must be fp32, tf32, fp16 or bf16, got '${precision}'`);
    const io = reporter({ ...v, quiet: v.quiet || v.json });
    const { compareModel, renderCompare } = await import('../../src/driver/compare.js');
    const result = await compareModel(
      { model, set: v.set as string[] | undefined, weights: weightOptions(v), input: v.input as string, reference: v.reference as string, opt: !!v.opt, atol: num('atol', 1e-4), rtol: num('rtol', 1e-4), ...(precision ? { precision: precision as Precision } : {}) },
      io,
    );
    writeFileSync(1, v.json ? JSON.stringify(result, null, 2) + '\n' : renderCompare(result));
    return result.failed ? 1 : 0;
  },
};
