// `vovc compare`: where does a compiled model diverge from PyTorch? vovc's layer outputs against
// a dump of the checkpoint's own code base (a forward hook on every module: docs/COMPARE.md),
// module by module in network order, naming the first module that fails and what it is.
//
// Module paths are the checkpoint's: vovc maps its values to them per naming, with the semantics
// each code base has (timm: a ConvNormAct and its BatchNormAct2d `.bn` output after the
// activation, `.conv` before BN; VoVNet.pytorch and detectron2: `X/conv` before BN, `X/norm`
// before the ReLU, `X/relu` after it). The unoptimized graph runs by default; with --opt the
// optimized one, whose fused intermediates are "not observable" (reported, not failed).

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { fail } from '../diag/diagnostics.js';
import { covers, isOp, type Graph, type Naming, type Node } from '../ir/graph.js';
import type { Precision } from '../ir/precision.js';
import { conventionKeys } from '../model/naming.js';
import { readFileOrFail } from '../io/files.js';
import { parseNpy } from '../io/npy.js';
import { runReference } from '../runtime/reference.js';
import { optimize } from '../passes/manager.js';
import { loadModelGraph, withSourcesAsync, type ModelRequest } from './model.js';
import { bindWeights, type Reporter, type WeightOptions } from './weights.js';

export interface CompareRequest extends ModelRequest {
  readonly weights: WeightOptions;
  /** A 4-D NCHW float32 .npy: the input the dump was made for. */
  readonly input: string;
  /** A folder of `<module path>.npy` (`/` as %2F), or one .npz / .safetensors keyed by module path. */
  readonly reference: string;
  readonly opt: boolean;
  readonly atol: number;
  readonly rtol: number;
  /** The reduced-precision rule of compare.py instead of atol/rtol (the run at that precision). */
  readonly precision?: Precision;
}

/** A module of the checkpoint's code base and the vovc value that is its output. */
interface ModuleOutput {
  readonly path: string;
  /** The unoptimized node whose output the module's is. */
  readonly value: string;
  readonly what: string;
}

export interface CompareRow {
  readonly module: string;
  readonly what: string;
  readonly shape: readonly number[];
  readonly status: 'pass' | 'fail' | 'not observable' | 'shape mismatch' | 'not mapped';
  readonly maxAbs?: number;
  /** max|diff| / max|reference| */
  readonly relError?: number;
  readonly cosine?: number;
  readonly worstRatio?: number;
}

export interface CompareResult {
  readonly model: string;
  readonly naming: Naming;
  readonly prefix: string;
  readonly graph: 'unoptimized' | 'optimized';
  readonly rule: string;
  readonly rows: readonly CompareRow[];
  readonly firstFailure: CompareRow | null;
  readonly passed: number;
  readonly failed: number;
}

/** Every module vovc can name in `naming`, in network order, with the value it outputs. */
function moduleOutputs(g: Graph, naming: Naming): ModuleOutput[] {
  const keys = conventionKeys(g.params.keys(), naming);
  const moduleOf = (param: string | undefined) => {
    const k = param && keys.get(param);
    return k ? k.replace(/\.(weight|bias|running_mean|running_var)$/, '') : undefined;
  };
  const out: ModuleOutput[] = [];
  const seen = new Set<string>();
  const add = (path: string | undefined, value: string, what: string) => {
    if (!path || seen.has(path)) return;
    seen.add(path);
    out.push({ path, value, what });
  };
  const byLayer = new Map<string, Node[]>();
  for (const n of g.nodes) byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
  const osa = naming !== 'timm';
  // The last node of each scope (a block 'stage2.block1', the stem) and of each stage.
  const lastOfScope = new Map<string, string>();
  for (const n of g.nodes) {
    lastOfScope.set(n.scope, n.id);
    const st = /^(stage\d)(\.|$)/.exec(n.scope);
    if (st) lastOfScope.set(`${st[1]}:stage`, n.id);
  }
  const isUnitAct = (n: Node) => isOp(n, 'act') && /\.(relu|silu|hardswish)$/.test(n.id) && (byLayer.get(n.layer) ?? []).some((u) => isOp(u, 'batchnorm'));
  // In the order a forward hook fires: a module after its children.
  for (const n of g.nodes) {
    const act = (byLayer.get(n.layer) ?? []).find(isUnitAct);
    if ((isOp(n, 'conv2d') || isOp(n, 'deform_conv2d')) && n.params.weight && !n.id.includes('.attn.')) {
      add(moduleOf(n.params.weight), n.id, `${n.op === 'deform_conv2d' ? 'deformable conv' : 'conv'} output, before BN`);
    } else if (isOp(n, 'batchnorm')) {
      const m = moduleOf(n.params.weight);
      if (osa) add(m, n.id, 'BN output, before the activation');
      else if (act) add(m, act.id, 'BatchNormAct2d output, after the activation');
    } else if (isUnitAct(n)) {
      const bn = (byLayer.get(n.layer) ?? []).find((u) => isOp(u, 'batchnorm'));
      const m = moduleOf(bn?.params.weight);
      if (osa) add(m?.replace(/\/(pw_)?norm$/, (_, pw) => `/${pw ?? ''}relu`), n.id, `after the ${(n.attrs as { fn: string }).fn}`);
      else add(n.layer, n.id, `${n.layer.startsWith('stem') ? 'stem unit' : 'ConvNormAct'} output, after the ${(n.attrs as { fn: string }).fn}`);
    } else if (isOp(n, 'mul') && n.id.endsWith('.attn.mul')) {
      const block = n.id.slice(0, -'.attn.mul'.length);
      add(osa ? moduleOf(`${block}.attn.fc.weight`)?.replace(/\.fc$/, '') : `${block}.attn`, n.id, 'attention output, x * gate');
    } else if (isOp(n, 'linear')) {
      add(moduleOf(n.params.weight), n.id, 'logits');
      // timm's ClassifierHead: global pool, flatten and fc, whose output is the head's.
      if (!osa) add('head', n.id, 'classifier head output (logits)');
    } else if (isOp(n, 'maxpool') && /^stages\.\d+\.pool$/.test(n.id) && !osa) add(n.id, n.id, 'max pooling');
    if (n.scope === 'stem' && lastOfScope.get('stem') === n.id) add('stem', n.id, 'stem output');
    const blockScope = /^stage(\d)\.block(\d+)$/.exec(n.scope);
    if (blockScope && lastOfScope.get(n.scope) === n.id) {
      const S = Number(blockScope[1]), B = Number(blockScope[2]);
      add(osa ? `stage${S}.OSA${S}_${B}` : `stages.${S - 2}.blocks.${B - 1}`, n.id, 'block output');
    }
    const stage = /^stage(\d)/.exec(n.scope);
    if (stage && lastOfScope.get(`stage${stage[1]}:stage`) === n.id) add(osa ? `stage${stage[1]}` : `stages.${Number(stage[1]) - 2}`, n.id, 'stage output');
  }
  return out;
}

/** Reference tensors by module path (a folder of .npy with %2F for '/', an .npz, a .safetensors). */
async function readReference(path: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const asF32 = (a: { shape: readonly number[]; data: ArrayLike<number> }) => ({ shape: [...a.shape], data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data) });
  let st;
  try {
    st = statSync(path);
  } catch {
    return fail('E8010', `cannot read the reference: no such file or folder`, { subject: path });
  }
  if (st.isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      if (!f.endsWith('.npy')) continue;
      out.set(decodeURIComponent(f.slice(0, -4)), asF32(parseNpy(readFileOrFail(join(path, f)), join(path, f))));
    }
  } else if (path.endsWith('.npz')) {
    const buf = readFileOrFail(path);
    const { default: zipReader } = await import('yauzl');
    const zip = await zipReader.fromBufferPromise(buf, { lazyEntries: true, autoClose: false });
    try {
      for await (const e of zip.eachEntry()) {
        if (!e.fileName.endsWith('.npy')) continue;
        const { fileDataStart } = await zip.readLocalFileHeaderPromise(e, { minimal: true });
        const raw = buf.subarray(fileDataStart, fileDataStart + e.compressedSize);
        const bytes = e.compressionMethod === 8 ? inflateRawSync(raw) : raw;
        out.set(e.fileName.slice(0, -4), asF32(parseNpy(bytes, `${path}:${e.fileName}`)));
      }
    } finally {
      zip.close();
    }
  } else if (path.endsWith('.safetensors')) {
    const { parseSafetensors } = await import('../weights/safetensors.js');
    for (const t of parseSafetensors(readFileOrFail(path), path).tensors) if (t.data) out.set(t.key, { shape: [...t.shape], data: t.data });
  } else fail('E8010', 'the reference must be a folder of <module path>.npy files, an .npz or a .safetensors file', { subject: path });
  if (!out.size) fail('E8010', 'the reference holds no tensors', { subject: path });
  return out;
}

/** The prefix (e.g. 'backbone.bottom_up.', 'module.') under which most reference keys are module paths. */
function prefixOf(keys: readonly string[], known: ReadonlySet<string>): string {
  const candidates = new Set(['']);
  for (const k of keys.slice(0, 50)) for (let i = k.indexOf('.'); i >= 0; i = k.indexOf('.', i + 1)) candidates.add(k.slice(0, i + 1));
  let best = '', hits = -1;
  for (const p of candidates) {
    const h = keys.filter((k) => k.startsWith(p) && known.has(k.slice(p.length))).length;
    if (h > hits || (h === hits && p.length < best.length)) [best, hits] = [p, h];
  }
  return best;
}

export async function compareModel(req: CompareRequest, io: Reporter): Promise<CompareResult> {
  const { readNpy } = await import('../io/npy.js');
  const input = readNpy(req.input);
  const model = loadModelGraph({ ...req, inputShape: input.shape });
  return withSourcesAsync(model.sources, async () => {
    const bound = await bindWeights(model.graph, req.weights, io);
    const naming = bound.graph.meta.naming;
    const modules = moduleOutputs(bound.graph, naming);
    const ref = await readReference(req.reference);
    const known = new Set(modules.map((m) => m.path));
    const prefix = prefixOf([...ref.keys()], known);
    const refByPath = new Map([...ref].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    // The graph that runs, and where each unoptimized value is observable in it.
    const precision = req.precision ?? 'fp32';
    const g = req.opt || precision !== 'fp32' ? optimize(bound.graph, {}).graph : bound.graph;
    const observable = new Map<string, string>();
    for (const n of g.nodes) {
      const c = covers(n);
      observable.set(c[c.length - 1], n.id);
    }
    const wanted = modules.filter((m) => refByPath.has(m.path) && observable.has(m.value));
    const values = wanted.length ? await runReference(g, { shape: input.shape, data: input.data as Float32Array }, { outputs: [...new Set(wanted.map((m) => observable.get(m.value)!))], precision }) : new Map();
    const rows: CompareRow[] = [];
    for (const m of modules) {
      const r = refByPath.get(m.path);
      if (!r) continue;
      const v = observable.get(m.value);
      if (!v) {
        rows.push({ module: m.path, what: m.what, shape: r.shape, status: 'not observable' });
        continue;
      }
      const a = values.get(v)!;
      if (a.shape.length !== r.shape.length || a.shape.some((d: number, i: number) => d !== r.shape[i])) {
        rows.push({ module: m.path, what: m.what, shape: r.shape, status: 'shape mismatch' });
        continue;
      }
      let maxAbs = 0, maxRef = 0, dot = 0, na = 0, nr = 0, worst = 0;
      for (let i = 0; i < r.data.length; i++) {
        const x = a.data[i], y = r.data[i];
        const d = Math.abs(x - y);
        if (!(d <= maxAbs)) maxAbs = d;
        maxRef = Math.max(maxRef, Math.abs(y));
        dot += x * y;
        na += x * x;
        nr += y * y;
        const ratio = d / (req.atol + req.rtol * Math.abs(y));
        if (!(ratio <= worst)) worst = ratio;
      }
      const cosine = na && nr ? dot / Math.sqrt(na * nr) : na === nr ? 1 : 0;
      const relError = maxRef ? maxAbs / maxRef : maxAbs;
      const ok = precision === 'fp32' ? worst <= 1 : relError <= (precision === 'bf16' ? 6e-2 : 1e-2) && cosine >= (precision === 'bf16' ? 0.999 : 0.9999);
      rows.push({ module: m.path, what: m.what, shape: r.shape, status: ok ? 'pass' : 'fail', maxAbs, relError, cosine, worstRatio: worst });
    }
    for (const k of refByPath.keys()) if (!known.has(k)) rows.push({ module: k, what: 'no vovc counterpart', shape: refByPath.get(k)!.shape, status: 'not mapped' });
    const firstFailure = rows.find((r) => r.status === 'fail' || r.status === 'shape mismatch') ?? null;
    if (!rows.some((r) => r.status === 'pass' || r.status === 'fail')) fail('E8010', `no module of the reference maps to '${bound.graph.name}' in ${naming} naming (reference keys e.g. ${[...ref.keys()].slice(0, 3).join(', ')}; vovc names e.g. ${modules.slice(0, 3).map((m) => m.path).join(', ')})`, { subject: req.reference });
    return {
      model: bound.graph.name,
      naming,
      prefix,
      graph: g === bound.graph ? 'unoptimized' : 'optimized',
      rule: precision === 'fp32' ? `|a - r| <= ${req.atol} + ${req.rtol} |r| elementwise` : `compare.py --precision ${precision}: max|diff| <= ${precision === 'bf16' ? '6e-2' : '1e-2'} max|r|, cosine >= ${precision === 'bf16' ? '0.999' : '0.9999'}`,
      rows,
      firstFailure,
      passed: rows.filter((r) => r.status === 'pass').length,
      failed: rows.filter((r) => r.status === 'fail' || r.status === 'shape mismatch').length,
    };
  });
}

/** The table of a comparison, in network order, then the first module that fails. */
export function renderCompare(r: CompareResult): string {
  const e = (x?: number) => (x === undefined ? '-' : x.toExponential(2));
  const w = Math.min(70, Math.max(...r.rows.map((x) => x.module.length), 6));
  const lines = [`vovc compare: ${r.model} (${r.naming} naming${r.prefix ? `, prefix '${r.prefix}'` : ''}, ${r.graph} graph); rule ${r.rule}`, `${'module'.padEnd(w)}  ${'shape'.padEnd(16)}  max|diff|  rel.err    cosine      result`];
  for (const x of r.rows) lines.push(`${x.module.slice(0, w).padEnd(w)}  ${x.shape.join('x').padEnd(16)}  ${e(x.maxAbs).padEnd(9)}  ${e(x.relError).padEnd(9)}  ${x.cosine === undefined ? '-'.padEnd(10) : x.cosine.toFixed(7).padEnd(10)}  ${x.status}`);
  lines.push(`${r.passed} passed, ${r.failed} failed${r.rows.some((x) => x.status === 'not observable') ? `, ${r.rows.filter((x) => x.status === 'not observable').length} not observable (fused)` : ''}${r.rows.some((x) => x.status === 'not mapped') ? `, ${r.rows.filter((x) => x.status === 'not mapped').length} not mapped` : ''}`);
  lines.push(r.firstFailure ? `first failing module: ${r.firstFailure.module} (${r.firstFailure.what})${r.firstFailure.status === 'shape mismatch' ? ': shapes differ' : `: max|diff| ${e(r.firstFailure.maxAbs)}, relative ${e(r.firstFailure.relError)}`}` : 'every compared module passes');
  return lines.join('\n') + '\n';
}
