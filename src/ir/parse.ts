// The textual IR read back: the inverse of printer.ts, so that pass tests (and anyone
// experimenting with a pass) can write a graph as text, run the pass, and compare text:
//
//   graph t(%input: f32[1,4,6,6]) naming=timm
//     %c = conv2d(%input) {k=3x3 s=1x1 p=1,1,1,1 g=1} w=c.weight : [1,4,6,6]
//     %r = relu(%c) : [1,4,6,6]
//     return y=%r
//
// Parameters are declared by use (role=name) and sized by the op table's parameter rule; the
// graph holds shapes only (no data). Every node's printed shape is checked against shape
// inference. Errors are diagnostics at file:line:col (E3201).

import { fail, type Span } from '../diag/diagnostics.js';
import { isActivation } from './activations.js';
import { GraphBuilder } from './builder.js';
import type { Graph, Naming, OpKind, Shape } from './graph.js';
import { INPUT } from './graph.js';
import { OPS, type OpRule } from './ops.js';

const NAMINGS: readonly Naming[] = ['timm', 'vovnet-pytorch', 'detectron2'];
const ROLE_NAMES: Readonly<Record<string, string>> = { w: 'weight', b: 'bias' };

/** A parse error at line `line` (1-based), column `col`. */
function error(file: string, line: number, col: number, message: string): never {
  const span: Span = { file, line, col, endLine: line, endCol: col + 1 };
  return fail('E3201', `IR text: ${message}`, { span });
}

const shapeOf = (s: string): Shape | undefined => (/^\[\d+(,\d+)*\]$/.test(s) ? s.slice(1, -1).split(',').map(Number) : undefined);
const pair = (s: string): [number, number] => s.split('x').map(Number) as [number, number];
const quad = (s: string): [number, number, number, number] => s.split(',').map(Number) as [number, number, number, number];

/** The attributes of `op` from its printed `{...}` items (printer.ts's attrText, inverted). */
function attrsOf(op: OpKind, items: readonly string[], fail: (m: string) => never): unknown {
  const kv = new Map<string, string | true>();
  for (const it of items) {
    const eq = it.indexOf('=');
    kv.set(eq < 0 ? it : it.slice(0, eq), eq < 0 ? true : it.slice(eq + 1));
  }
  const str = (k: string): string => {
    const v = kv.get(k);
    if (typeof v !== 'string') fail(`${op} needs ${k}=...`);
    return v;
  };
  const num = (k: string) => {
    const v = Number(str(k));
    if (!Number.isFinite(v)) fail(`${k}=${str(k)} is not a number`);
    return v;
  };
  switch (op) {
    case 'conv2d': {
      const act = kv.get('act');
      if (typeof act === 'string' && !isActivation(act)) fail(`unknown activation '${act}'`);
      return { kernel: pair(str('k')), stride: pair(str('s')), pad: quad(str('p')), groups: num('g'), act: typeof act === 'string' ? act : 'none', residual: kv.get('residual') === true };
    }
    case 'deform_conv2d': {
      const act = kv.get('act');
      if (typeof act === 'string' && !isActivation(act)) fail(`unknown activation '${act}'`);
      if (kv.get('v1') !== true && kv.get('v2') !== true) fail('deform_conv2d needs v1 or v2');
      return { kernel: pair(str('k')), stride: pair(str('s')), pad: quad(str('p')), groups: num('g'), act: typeof act === 'string' ? act : 'none', residual: false, deformGroups: num('dg'), modulated: kv.get('v2') === true };
    }
    case 'maxpool':
    case 'avgpool':
      return { kernel: pair(str('k')), stride: pair(str('s')), pad: quad(str('p')), ceil: kv.get('ceil') === true };
    case 'batchnorm':
      return { eps: num('eps') };
    case 'concat':
      return { axis: 1, inplace: kv.get('inplace') === true };
    case 'eca_conv1d':
      return { kernel: num('kernel') };
    case 'se_gate': {
      const act = str('act');
      if (!isActivation(act)) fail(`unknown activation '${act}'`);
      return { mode: str('mode'), kernel: num('kernel'), act };
    }
    case 'scale':
      return { residual: kv.get('residual') === true };
    default:
      return {};
  }
}

/** Parses IR text (printGraph's format) into a shapes-only graph. */
export function parseGraph(text: string, file = '<ir>'): Graph {
  const lines = text.split('\n');
  const head = /^graph ([^\s(]+)\(%input: f32(\[[\d,]+\])\) naming=(\S+)\s*$/.exec(lines[0] ?? '');
  if (!head) return error(file, 1, 1, "expected 'graph NAME(%input: f32[N,C,H,W]) naming=NAMING'");
  const naming = head[3] as Naming;
  if (!NAMINGS.includes(naming)) return error(file, 1, lines[0].indexOf('naming=') + 8, `unknown naming '${head[3]}'`);
  const b = new GraphBuilder(head[1], shapeOf(head[2])!, { naming, preprocessing: naming === 'detectron2' ? 'detectron2' : 'timm', bnEps: 1e-5, numClasses: 0 });
  let returned = false;
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    const t = raw.replace(/\s*\/\/.*$/, '');
    const indent = t.length - t.trimStart().length + 1;
    const body = t.trim();
    if (!body) return;
    const at: (m: string, col?: number) => never = (m, col = indent) => error(file, line, col, m);
    if (returned) at('nothing may follow the return line');
    if (body.startsWith('return ')) {
      for (const item of body.slice(7).split(', ')) {
        const m = /^([\w.-]+)=%(\S+)$/.exec(item);
        if (!m) at(`expected 'name=%value' in the return line, got '${item}'`);
        if (m[2] !== INPUT && !b.has(m[2])) at(`return of undefined value '%${m[2]}'`, indent + body.indexOf(item));
        b.output(m[1], m[2]);
      }
      returned = true;
      return;
    }
    const m = /^%(\S+) = ([\w]+)\(([^)]*)\)(?: \{([^}]*)\})?((?: [\w]+=\S+)*) : (\[[\d,]+\])$/.exec(body);
    if (!m) return at("expected '%id = op(%a, ...) {attrs} role=param ... : [shape]'");
    const [, id, opText, args, attrText, paramText, shapeText] = m;
    const isAct = isActivation(opText) && opText !== 'none';
    const op = (isAct ? 'act' : opText) as OpKind;
    if (!(op in OPS)) at(`unknown op '${opText}'`, indent + body.indexOf(opText));
    const inputs = args.trim() ? args.split(',').map((a) => a.trim().replace(/^%/, '')) : [];
    for (const v of inputs) if (v !== INPUT && !b.has(v)) at(`'%${id}' reads '%${v}', which no earlier line defines`, indent + body.indexOf(`%${v}`));
    const attrs = isAct ? { fn: opText } : attrsOf(op, attrText ? attrText.trim().split(/\s+/) : [], (msg) => at(`${opText} '${id}': ${msg}`));
    const shape = shapeOf(shapeText)!;
    const params: Record<string, string> = {};
    for (const p of paramText.trim() ? paramText.trim().split(/\s+/) : []) {
      const eq = p.indexOf('=');
      params[ROLE_NAMES[p.slice(0, eq)] ?? p.slice(0, eq)] = p.slice(eq + 1);
    }
    // Parameters are sized as the op table says they are, for these inputs and this output.
    const rule = OPS[op] as OpRule<OpKind>;
    const expected = rule.params(attrs as never, inputs.map((v) => b.shape(v)), shape);
    for (const [role0, s] of Object.entries(expected)) {
      const role = role0.replace(/\?$/, '');
      if (params[role] && !b.getParam(params[role])) b.param(params[role], s, null);
    }
    for (const role of Object.keys(params)) if (!(role in expected) && !(`${role}?` in expected)) at(`${opText} '${id}' takes no parameter '${role}'`);
    b.add({ id, op, inputs, attrs: attrs as never, params, scope: '', span: { file, line, col: indent, endLine: line, endCol: indent + body.length } });
    const got = b.shape(id);
    if (got.length !== shape.length || got.some((d, k) => d !== shape[k])) at(`'%${id}' is printed as ${shapeText} but its inputs give [${got.join(',')}]`, indent + body.lastIndexOf('['));
  });
  if (!returned) return error(file, lines.length, 1, "missing the 'return name=%value, ...' line");
  return b.build();
}
