// vovc weights inspect FILE | vovc weights convert IN --model MODEL --to OUT.safetensors
//
// inspect answers the questions those projects' issue trackers are full of: what is in this
// file, which convention and prefix, and which models it fits (keys and shapes).
import { statSync } from 'node:fs';
import { VovcError, type Diagnostic } from '../../src/diag/diagnostics.js';
import { zooNames, loadModel } from '../../src/dsl/zoo.js';
import { isFloatDtype } from '../../src/io/dtype.js';
import { lowerSpec } from '../../src/model/lower.js';
import { conventionKeys } from '../../src/model/naming.js';
import type { Naming } from '../../src/ir/graph.js';
import { groupKeys, matchCheckpoint } from '../../src/weights/mapping.js';
import { checkOutputFile, writeFileAtomic } from '../../src/util/fsx.js';
import { loadModelGraph } from '../../src/driver/model.js';
import { UsageError, WEIGHT_OPTIONS, parse, printDiagnostics, type Command } from '../common.js';

const USAGE = `usage: vovc weights inspect FILE [--json] [--keys]
       vovc weights convert IN --model MODEL --to OUT.safetensors [--force] [--naming timm|vovnet-pytorch|detectron2] [--weights-format F] [--weights-prefix P] [--allow-missing]`;

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

async function load(file: string, quiet: boolean) {
  const { loadCheckpoint } = await import('../../src/weights/checkpoint.js');
  return loadCheckpoint(file, { progress: !quiet });
}

/**
 * The deformable convolution a checkpoint holds: its offset convs (`conv_offset` keys, any
 * naming: '/conv_offset.weight' in detectron2 and VoVNet.pytorch, '.conv_offset.weight' in vovc's
 * canonical names) by stage, their output channels telling DCNv2 (27 per offset group: 18
 * offsets and 9 mask logits) from DCNv1 (18 per group) and the group count. 54 channels could be
 * v2 with 2 groups or v1 with 3: v2 is read (every published config), and the note says so.
 */
function deformOf(tensors: readonly { key: string; shape: readonly number[] }[]): { version: 'v1' | 'v2'; groups: number; stages: number[]; ambiguous: boolean } | null {
  const stages = new Set<number>();
  const channels = new Set<number>();
  for (const t of tensors) {
    const m = /(?:^|\.)stage(\d)\.OSA\d_\d+\..*[/.]conv_offset\.weight$/.exec(t.key) ?? /(?:^|\.)stages\.(\d)\.blocks\.\d+\..*\.conv_offset\.weight$/.exec(t.key);
    if (!m) continue;
    stages.add(t.key.includes('stages.') ? Number(m[1]) + 2 : Number(m[1]));
    channels.add(t.shape[0]);
  }
  if (!stages.size) return null;
  const c = Math.min(...channels);
  const version = c % 27 === 0 ? 'v2' : 'v1';
  return { version, groups: c / (version === 'v2' ? 27 : 18), stages: [...stages].sort(), ambiguous: c % 27 === 0 && c % 18 === 0 };
}

/**
 * The checkpoint naming its keys follow, from their patterns alone: timm's `stages.N.blocks.M.`;
 * the OSA pattern (`stage2.OSA2_1.`) is detectron2's when something only detectron2 has appears
 * (eSE `ese.fc`, separable `/dw_conv3x3`, DCN `/conv_offset`, a `bottom_up` prefix, no
 * classifier), else VoVNet.pytorch's.
 */
function namingOfKeys(keys: readonly string[]): Naming | null {
  if (keys.some((k) => /(^|\.)stages\.\d+\.blocks\.\d+\./.test(k))) return 'timm';
  if (!keys.some((k) => /(^|\.)stage\d\.OSA\d_\d+\./.test(k))) return null;
  const d2 = keys.some((k) => /\.ese\.fc\.|\/dw_conv3x3\.|\/conv_offset\.|(^|\.)bottom_up\./.test(k)) || !keys.some((k) => /(^|\.)classifier\.weight$/.test(k));
  return d2 ? 'detectron2' : 'vovnet-pytorch';
}

async function inspect(file: string, v: Record<string, unknown>): Promise<number> {
  const ck = await load(file, !!v.quiet);
  // Counted from the shapes: inspecting decodes no tensor.
  const floats = ck.tensors.filter((t) => isFloatDtype(t.dtype));
  const elements = floats.reduce((s, t) => s + t.shape.reduce((a, d) => a * d, 1), 0);
  const dtypes = new Map<string, number>();
  for (const t of ck.tensors) dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1);
  // Which zoo models does it fit? Lower each shape-only and match keys and shapes.
  const fits: { model: string; naming: Naming; prefix: string; matched: number; expected: number; unexpected: number }[] = [];
  let best: { model: string; naming: Naming; prefix: string; matched: number; expected: number; missing: number; mismatched: number } | undefined;
  for (const name of zooNames()) {
    const g = lowerSpec(loadModel(name).spec);
    const r = matchCheckpoint(g, ck.tensors, { file, bind: false }).report;
    if (r.missing.length === 0 && r.shapeMismatches.length === 0 && r.matched > 0) fits.push({ model: name, naming: r.naming, prefix: r.prefix, matched: r.matched, expected: r.expected, unexpected: r.unexpected.length });
    if (!best || r.matched / r.expected > best.matched / best.expected) best = { model: name, naming: r.naming, prefix: r.prefix, matched: r.matched, expected: r.expected, missing: r.missing.length, mismatched: r.shapeMismatches.length };
  }
  const info = {
    file,
    format: ck.format,
    bytes: statSync(file).size,
    wrapper: ck.wrapperPath,
    tensors: ck.tensors.length,
    floatElements: elements,
    dtypes: Object.fromEntries(dtypes),
    // A file no zoo model fits is named by its keys' own pattern, not by the closest model's naming.
    convention: fits[0]?.naming ?? (best && best.matched > 0 ? best.naming : namingOfKeys(ck.tensors.map((t) => t.key))),
    prefix: fits[0]?.prefix ?? best?.prefix ?? null,
    fits,
    closest: fits.length ? undefined : best,
    deform: deformOf(ck.tensors),
    keys: v.keys || v.json ? ck.tensors.map((t) => ({ key: t.key, dtype: t.dtype, shape: t.shape })) : undefined,
  };
  if (v.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  out.push(`${file}: ${ck.format}, ${mb(info.bytes)}${ck.wrapperPath.length ? `, tensors under ${ck.wrapperPath.map((w: string) => `['${w}']`).join('')}` : ''}`);
  out.push(`  ${ck.tensors.length} tensors, ${elements} floating-point values; dtypes: ${[...dtypes].map(([d, n]) => `${d} x${n}`).join(', ')}`);
  if (info.convention) out.push(`  naming: ${info.convention}${info.prefix ? `, key prefix '${info.prefix}'` : ', no key prefix'}`);
  if (fits.length) {
    out.push(`  fits (every parameter present with its shape): ${fits.map((f) => f.model).join(', ')}`);
    const extra = fits.filter((f) => f.unexpected > 0);
    for (const f of extra) out.push(`    ${f.model}: ${f.unexpected} tensors of the file unused`);
  } else if (best) {
    out.push(`  fits no zoo model; closest: ${best.model} (${best.matched}/${best.expected} parameters matched, ${best.missing} missing, ${best.mismatched} with another shape); run 'vovc check' with --set to describe a variant`);
  }
  const dcn = info.deform;
  if (dcn) {
    const sets = [...dcn.stages.map((st) => `--set stage${st}.deform=${dcn.version}`), ...(dcn.groups > 1 ? [`--set deform.groups=${dcn.groups}`] : [])].join(' ');
    out.push(`  deformable convolution: DCN${dcn.version} (${dcn.version === 'v2' ? 'offsets and a sigmoid mask, 27' : 'offsets only, 18'} offset-conv channels per group), ${dcn.groups} offset group${dcn.groups > 1 ? 's' : ''}, in stage${dcn.stages.length > 1 ? 's' : ''} ${dcn.stages.join(', ')}${dcn.ambiguous ? ` (${dcn.groups * 27} channels could also be DCNv1 with ${(dcn.groups * 27) / 18} groups)` : ''}`);
    // A fit that leaves the offset convs unused is a plain model: try it with the deformable stages set.
    const plain = fits.filter((f) => !/-DCN$/.test(f.model) && f.unexpected > 0).map((f) => f.model);
    const withSets = (plain.length ? plain : best && !fits.length ? [best.model] : []).filter((name) => {
      const g = lowerSpec(loadModel(name, { set: sets.split(' ').filter((x) => x !== '--set') }).spec);
      const r = matchCheckpoint(g, ck.tensors, { file, bind: false }).report;
      return r.missing.length === 0 && r.shapeMismatches.length === 0 && !r.unexpected.some((u) => u.key.includes('conv_offset'));
    });
    for (const name of withSets) out.push(`    fits ${name} ${sets} (the plain ${name} would leave the offset convs unused)`);
    if (!withSets.length && !fits.some((f) => /-DCN$/.test(f.model))) out.push(`    describe the network with 'stageN: deform ${dcn.version}'${dcn.groups > 1 ? ` and 'deform groups ${dcn.groups}'` : ''} in a model file, or ${sets} on the zoo model it extends`);
  }
  if (v.keys) for (const t of ck.tensors) out.push(`  ${t.key}  ${t.dtype}  [${t.shape.join(', ')}]`);
  else {
    out.push('  keys (grouped; --keys lists all):');
    for (const l of groupKeys(ck.tensors.map((t) => t.key)).slice(0, 40)) out.push(`    ${l}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

async function convert(file: string, v: Record<string, unknown>): Promise<number> {
  const model = v.model as string | undefined;
  const to = v.to as string | undefined;
  if (!model) throw new UsageError(`convert needs --model MODEL\n\n${USAGE}`);
  if (!to) throw new UsageError(`convert needs --to OUT.safetensors\n\n${USAGE}`);
  checkOutputFile(to, '--to', !!v.force);
  const naming = (v.naming as Naming | undefined) ?? 'timm';
  if (!['timm', 'vovnet-pytorch', 'detectron2'].includes(naming)) throw new UsageError(`--naming must be timm, vovnet-pytorch or detectron2, got '${naming}'`);
  const { graph } = loadModelGraph({ model, set: v.set as string[] | undefined });
  const ck = await load(file, !!v.quiet);
  const { bindCheckpoint } = await import('../../src/weights/mapping.js');
  const r = bindCheckpoint(graph, ck.tensors, { naming: v['weights-format'] as Naming | undefined, prefix: v['weights-prefix'] as string | undefined, allowMissing: !!v['allow-missing'], file });
  printDiagnostics(r.report.diagnostics);
  const keys = conventionKeys(r.graph.params.keys(), naming);
  const missing = [...keys].filter(([, k]) => k === undefined).map(([n]) => n);
  if (missing.length) {
    const d: Diagnostic = { severity: 'error', code: 'E4007', subject: model, message: `the ${naming} naming cannot represent ${missing.length} parameters of '${graph.name}' (e.g. ${missing[0]})`, notes: ['vovnet-pytorch has no separable convs and no attention; only timm has ECA'] };
    throw new VovcError(d);
  }
  const { writeSafetensors } = await import('../../src/weights/safetensors.js');
  const missingSet = new Set(r.missingNames);
  const entries = [...r.graph.params].filter(([n]) => !missingSet.has(n)).map(([n, p]) => ({ key: keys.get(n)!, shape: p.shape, data: p.data }));
  writeFileAtomic(to, writeSafetensors(entries, { format: 'pt', source: 'vovc weights convert', model: graph.name, naming }));
  if (!v.quiet) process.stderr.write(`wrote ${to}: ${entries.length} tensors in ${naming} naming (from ${r.report.naming}${r.report.prefix ? `, prefix '${r.report.prefix}'` : ''})\n`);
  return 0;
}

export const command: Command = {
  async run(args) {
    const r = parse(args, { ...WEIGHT_OPTIONS, help: { type: 'boolean', short: 'h' }, quiet: { type: 'boolean', short: 'q' }, json: { type: 'boolean' }, keys: { type: 'boolean' }, force: { type: 'boolean' }, model: { type: 'string' }, to: { type: 'string' }, naming: { type: 'string' }, set: { type: 'string', multiple: true } }, USAGE);
    if (!r) return 0;
    const [sub, file, ...extra] = r.positionals;
    if (!sub || !file || extra.length) throw new UsageError(USAGE);
    if (sub === 'inspect') return inspect(file, r.values as Record<string, unknown>);
    if (sub === 'convert') return convert(file, r.values as Record<string, unknown>);
    throw new UsageError(`unknown weights subcommand '${sub}' (inspect, convert)\n\n${USAGE}`);
  },
};
