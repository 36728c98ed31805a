// vovc check MODEL: parse, resolve, lower and verify; print a one-line summary.
import { loadModelGraph } from '../../src/driver/model.js';
import { countParams } from '../../src/ir/graph.js';
import { MODEL_OPTIONS, parse, parseShape, requireModel, type Command } from '../common.js';

const USAGE = 'usage: vovc check MODEL [--set key=value ...] [--input-shape N,C,H,W]';

export const command: Command = {
  async run(args) {
    const r = parse(args, MODEL_OPTIONS, USAGE);
    if (!r) return 0;
    const model = requireModel(r.positionals, USAGE);
    const inputShape = r.values['input-shape'] ? parseShape(r.values['input-shape'] as string) : undefined;
    const { graph } = loadModelGraph({ model, set: r.values.set as string[] | undefined, inputShape });
    if (!r.values.quiet) {
      const outs = graph.outputs.map((o) => `${o.name} [${graph.nodes.find((n) => n.id === o.value)!.shape.join(',')}]`).join(', ');
      process.stdout.write(`${graph.name}: ok (${graph.nodes.length} ops, ${countParams(graph)} parameters, input [${graph.input.shape.join(',')}] -> ${outs})\n`);
    }
    return 0;
  },
};
