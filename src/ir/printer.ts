// Textual IR, one node per line, MLIR-flavoured:
//
//   graph vovnet27_slim(%input: f32[1,3,224,224]) naming=vovnet-pytorch
//     %stem.0.conv = conv2d(%input) {k=3x3 s=2x2 p=1,1,1,1 g=1} w=stem.0.conv.weight : [1,64,112,112]
//     ...
//     return logits=%head.fc
//
// The printer is deterministic; pass tests compare this text before and after a pass.

import { opName, type Graph, type Node } from './graph.js';

function attrText(n: Node): string {
  const a = n.attrs as Record<string, unknown>;
  const parts: string[] = [];
  switch (n.op) {
    case 'conv2d':
    case 'deform_conv2d': {
      const c = n.attrs as Node<'conv2d'>['attrs'];
      parts.push(`k=${c.kernel.join('x')}`, `s=${c.stride.join('x')}`, `p=${c.pad.join(',')}`, `g=${c.groups}`);
      if (n.op === 'deform_conv2d') {
        const d = n.attrs as Node<'deform_conv2d'>['attrs'];
        parts.push(`dg=${d.deformGroups}`, d.modulated ? 'v2' : 'v1');
      }
      if (c.act !== 'none') parts.push(`act=${c.act}`);
      if (c.residual) parts.push('residual');
      break;
    }
    case 'act':
      break;
    case 'maxpool':
    case 'avgpool': {
      const p = n.attrs as Node<'maxpool'>['attrs'];
      parts.push(`k=${p.kernel.join('x')}`, `s=${p.stride.join('x')}`, `p=${p.pad.join(',')}`);
      if (p.ceil) parts.push('ceil');
      break;
    }
    default:
      for (const k of Object.keys(a).sort()) {
        const v = a[k];
        if (v === false) continue;
        parts.push(v === true ? k : `${k}=${v}`);
      }
  }
  return parts.length ? ` {${parts.join(' ')}}` : '';
}

function printNode(n: Node): string {
  const params = Object.entries(n.params)
    .map(([role, name]) => `${role === 'weight' ? 'w' : role === 'bias' ? 'b' : role}=${name}`)
    .join(' ');
  // An activation prints as its function: `%stem.0.relu = relu(%stem.0.bn)`.
  const op = opName(n);
  return `%${n.id} = ${op}(${n.inputs.map((i) => `%${i}`).join(', ')})${attrText(n)}${params ? ' ' + params : ''} : [${n.shape.join(',')}]`;
}

export function printGraph(g: Graph, opts: { spans?: boolean } = {}): string {
  const lines = [`graph ${g.name}(%input: f32[${g.input.shape.join(',')}]) naming=${g.meta.naming}`];
  for (const n of g.nodes) {
    let line = '  ' + printNode(n);
    if (opts.spans && n.span) line += `  // ${n.span.file}:${n.span.line}:${n.span.col}`;
    lines.push(line);
  }
  lines.push(`  return ${g.outputs.map((o) => `${o.name}=%${o.value}`).join(', ')}`);
  return lines.join('\n') + '\n';
}
