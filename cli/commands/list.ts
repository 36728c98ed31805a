// vovc list: every zoo model, one per line, with its parameter count as a plain integer.
import { loadModel, zooNames } from '../../src/dsl/zoo.js';
import { countParams } from '../../src/ir/graph.js';
import { lowerSpec } from '../../src/model/lower.js';
import { parse, type Command } from '../common.js';

const USAGE = 'usage: vovc list [--json]';

export const command: Command = {
  async run(args) {
    const r = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE, false);
    if (!r) return 0;
    const rows = zooNames().map((name) => {
      const { spec } = loadModel(name);
      const g = lowerSpec(spec);
      return { name, params: countParams(g), head: spec.head.kind, naming: spec.naming };
    });
    if (r.values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else {
      const w = Math.max(...rows.map((x) => x.name.length));
      for (const x of rows) process.stdout.write(`${x.name.padEnd(w)}  ${x.params}\n`);
    }
    return 0;
  },
};
