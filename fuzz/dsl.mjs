// Generators of .vov programs and of mutations of them, as fast-check arbitraries.
//
// Three families, from most to least structured:
//   validProgram    a program that follows the grammar AND the semantic rules of docs/DSL.md
//                   (consecutive stages, positive sizes, 'residual all' only where widths
//                   match, no spatial collapse): vovc must compile and verify it.
//   grammarProgram  follows the grammar, values anywhere (0, negative, huge, wrong arity,
//                   missing or repeated statements, stage gaps, unknown bases): vovc must
//                   compile it or answer with diagnostics.
//   mutatedProgram  a zoo/test model file or a valid program after byte flips, token
//                   deletions/duplications/swaps, number changes, line edits and truncation.
// Plus random --set arguments. Cosmetic choices (colons, commas, indentation, comments, CRLF)
// come from a small PRNG seeded by the arbitrary, so every case is reproducible from its seed
// and shrinks with it.
//
// Plain JS without imports from vovc: the vitest tests (src/) and the fuzz driver (dist/) share it.
import fc from 'fast-check';

const NAMINGS = ['timm', 'vovnet-pytorch', 'detectron2'];
const RESIDUALS = ['none', 'after-first', 'all'];
const ATTENTIONS = ['none', 'ese', 'eca'];
const STAGES = ['stage2', 'stage3', 'stage4', 'stage5'];

/** xorshift32: cosmetic choices only. */
function prng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { next, bit: () => (next() & 1) === 1, below: (n) => next() % n, pick: (xs) => xs[next() % xs.length] };
}

/** Joins a line's parts, with or without the optional commas. */
function parts(r, xs) {
  return xs.map((p, i) => (i === 0 ? p : `${r.bit() ? ',' : ''} ${p}`)).join('');
}

function statement(r, keyword, body) {
  const indent = r.pick(['', '  ', '    ', '\t', ' ']);
  const comment = r.below(8) === 0 ? `  # ${r.pick(['note', 'x: 1, 2', '-> ok', '#'])}` : '';
  return `${indent}${keyword}${r.bit() ? ':' : ''} ${body}${comment}`;
}

function layout(r, lines) {
  const out = [];
  for (const l of lines) {
    if (r.below(10) === 0) out.push(r.pick(['', '# comment', '   ', '\t# indented comment']));
    out.push(l);
  }
  const eol = r.below(6) === 0 ? '\r\n' : '\n';
  return out.join(eol) + (r.bit() ? eol : '');
}

/** Fisher-Yates with the cosmetic PRNG: statements may come in any order. */
function shuffle(r, xs) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.below(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const kernelText = (r, k) => (r.bit() ? `${k}x${k}` : `${k}`);

/** Output size of a pool without padding, PyTorch rules (src/ir/ops.ts outSize). */
function pooled(size, k, s, ceil) {
  const span = size - k;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= size) out -= 1;
  return out;
}

const opt = (a) => fc.option(a, { nil: undefined, freq: 2 });
const int = (min, max) => fc.integer({ min, max });
/** `a` one time in `n`, else undefined. */
const rare = (a, n) => fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const NAME = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}(-[A-Za-z0-9]{1,3})?$/).filter((n) => !/^x\d+$/.test(n));

const attentionArb = fc.record({ type: fc.constantFrom(...ATTENTIONS), kernel: opt(fc.constantFrom(1, 3, 5, 7)), where: opt(fc.constantFrom('last', 'all')) });

/**
 * Bounds of the valid-program generator: the campaign's (wide) and the differential mode's
 * (small models that every target runs in seconds).
 */
const WIDE = { batch: [1, 2], channels: [1, 4], hw: [8, 72], inputFreq: 2, stemLayers: 4, kernels: [1, 2, 3, 5], width: 40, out: 48, stages: 4, blocks: 3, layers: 4, growth: 12, dlayers: 5, bottleneck: 24, classes: 20, deformEvery: 8, derived: true };
const SMALL = { batch: [1, 2], channels: [3, 3], hw: [16, 40], inputFreq: 0, stemLayers: 3, kernels: [1, 3, 3, 5], width: 12, out: 16, stages: 3, blocks: 2, layers: 3, growth: 6, dlayers: 3, bottleneck: 8, classes: 10, deformEvery: 2, derived: false };

const choicesOf = (B) => fc.record({
  name: NAME,
  naming: opt(fc.constantFrom(...NAMINGS)),
  prep: opt(fc.constantFrom('timm', 'detectron2')),
  input: B.inputFreq ? opt(fc.tuple(int(...B.batch), int(...B.channels), int(...B.hw), int(...B.hw))) : fc.tuple(int(...B.batch), int(...B.channels), int(...B.hw), int(...B.hw)),
  eps: opt(fc.constantFrom('1e-5', '0.001', '1e-3', '2.5e-4', '1E-5', '0.1')),
  activation: opt(fc.constantFrom('relu', 'silu', 'hardswish')),
  deformGroups: rare(int(1, 3), 4),
  stem: fc.array(fc.record({ sep: fc.boolean(), k: fc.constantFrom(...B.kernels), out: int(1, B.width), stride: opt(fc.constantFrom(1, 2)), writeIn: fc.boolean() }), { minLength: 1, maxLength: B.stemLayers }),
  defaults: fc.record({ layers: opt(int(1, B.layers)), residual: opt(fc.constantFrom(...RESIDUALS)), depthwise: opt(fc.constantFrom('', 'true', 'false', 'yes', 'no')), attention: opt(attentionArb) }),
  stages: fc.array(
    fc.record({
      dense: int(0, 4).map((x) => x === 0),
      pool: opt(fc.record({ k: fc.constantFrom(1, 2, 3), s: opt(fc.constantFrom(1, 2)), mode: fc.constantFrom('', 'ceil', 'floor') })),
      mid: int(1, B.width),
      out: int(1, B.out),
      blocks: opt(int(1, B.blocks)),
      layers: opt(int(1, B.layers)),
      residual: opt(fc.constantFrom(...RESIDUALS)),
      depthwise: opt(fc.constantFrom('', 'true', 'false')),
      attention: opt(attentionArb),
      deform: rare(fc.constantFrom('v1', 'v2'), B.deformEvery),
      growth: int(1, B.growth),
      dlayers: int(1, B.dlayers),
      bottleneck: opt(int(1, B.bottleneck)),
      transition: opt(fc.record({ out: int(1, B.out), pool: fc.boolean(), long: fc.boolean() })),
    }),
    { minLength: 1, maxLength: B.stages },
  ),
  head: fc.oneof(int(1, B.classes), fc.constant(0)),
  outputs: opt(fc.array(fc.nat(), { minLength: 1, maxLength: 4 })),
  derived: B.derived ? opt(fc.record({ name: NAME, naming: opt(fc.constantFrom(...NAMINGS)), classes: opt(int(1, 50)), eps: opt(fc.constantFrom('1e-4', '0.01')), blocks: opt(fc.tuple(fc.nat(), int(1, 3))) })) : fc.constant(undefined),
  style: fc.nat(),
});

const TRUE_WORDS = new Set(['', 'true', 'yes']);

function attentionText(a, allowKernel) {
  const xs = [a.type];
  if (a.type === 'eca' && a.kernel !== undefined && allowKernel) xs.push(`kernel ${a.kernel}`);
  if (a.where) xs.push(`on ${a.where}`);
  return `attention ${xs.join(' ')}`;
}

/** Renders valid choices: constraints that the choices alone do not guarantee are repaired here. */
function renderValid(c) {
  const r = prng(c.style);
  const [n, ch, h0, w0] = c.input ?? [1, 3, 224, 224];
  let width = ch;
  let H = h0;
  let W = w0;
  const body = [];
  if (c.naming) body.push(statement(r, 'naming', c.naming));
  if (c.prep) body.push(statement(r, 'preprocessing', c.prep));
  if (c.input) body.push(statement(r, 'input', `${n}x${ch}x${h0}x${w0}`));
  if (c.eps) body.push(statement(r, 'bn', `eps ${c.eps}`));
  if (c.activation) body.push(statement(r, 'activation', c.activation));
  const stem = c.stem.map((l) => {
    const s = l.stride ?? 1;
    const t = `${l.sep ? 'sepconv' : 'conv'} ${kernelText(r, l.k)} ${l.writeIn ? `${width}->` : ''}${l.out}${l.stride ? ` /${l.stride}` : ''}`;
    const pad = Math.floor(l.k / 2);
    H = Math.floor((H + 2 * pad - l.k) / s) + 1;
    W = Math.floor((W + 2 * pad - l.k) / s) + 1;
    width = l.out;
    return t;
  });
  body.push(statement(r, 'stem', parts(r, stem)));
  const d = c.defaults;
  const defaults = [];
  if (d.layers) defaults.push(`layers ${d.layers}`);
  if (d.residual) defaults.push(`residual ${d.residual}`);
  if (d.depthwise !== undefined) defaults.push(`depthwise${d.depthwise ? ` ${d.depthwise}` : ''}`);
  if (d.attention) defaults.push(attentionText(d.attention, true));
  if (defaults.length) body.push(statement(r, 'osa', parts(r, defaults)));
  const present = ['stem'];
  // Deformable stages (not dense, not depthwise) and the channel counts their 3x3 layers read:
  // offset groups must divide each (E1114), else the model keeps one group.
  const deformReads = [];
  c.stages.forEach((st, i) => {
    const name = STAGES[i];
    present.push(name);
    const xs = [];
    if (st.dense) {
      xs.push(`dense growth ${st.growth} x${st.dlayers}`);
      if (st.bottleneck) xs.push(`bottleneck ${st.bottleneck}`);
      width += st.growth * st.dlayers;
      if (st.transition) {
        const pool = st.transition.pool && H >= 2 && W >= 2;
        xs.push(`transition ${st.transition.long ? '1x1 -> ' : ''}${st.transition.out}${pool ? ' avgpool 2x2' : ''}`);
        width = st.transition.out;
        if (pool) [H, W] = [Math.floor(H / 2), Math.floor(W / 2)];
      }
    } else {
      if (st.pool && H >= st.pool.k && W >= st.pool.k) {
        const s = st.pool.s ?? st.pool.k;
        xs.push(`maxpool ${kernelText(r, st.pool.k)}${st.pool.s ? ` /${st.pool.s}` : ''}${st.pool.mode ? ` ${st.pool.mode}` : ''}`);
        H = pooled(H, st.pool.k, s, st.pool.mode === 'ceil');
        W = pooled(W, st.pool.k, s, st.pool.mode === 'ceil');
      }
      xs.push(`osa ${st.mid} -> ${st.out}${st.blocks ? ` x${st.blocks}` : ''}`);
      if (st.layers || !d.layers) xs.push(`layers ${st.layers ?? 2}`);
      const residual = st.residual ?? d.residual ?? 'none';
      if (residual === 'all' && width !== st.out) xs.push('residual after-first');
      else if (st.residual) xs.push(`residual ${st.residual}`);
      if (st.depthwise !== undefined) xs.push(`depthwise${st.depthwise ? ` ${st.depthwise}` : ''}`);
      if (st.attention) xs.push(attentionText(st.attention, true));
      const depthwise = TRUE_WORDS.has(st.depthwise ?? d.depthwise ?? 'false');
      if (st.deform && !depthwise) {
        xs.push(`deform ${st.deform}`);
        deformReads.push(width, st.out, st.mid);
      }
      width = st.out;
    }
    body.push(statement(r, name, parts(r, shuffle(r, xs))));
  });
  if (c.deformGroups && deformReads.length && deformReads.every((w) => w % c.deformGroups === 0)) body.push(statement(r, 'deform', `groups ${c.deformGroups}`));
  body.push(statement(r, 'head', c.head ? `classifier ${c.head}` : 'backbone'));
  if (c.head) present.push('logits');
  if (c.outputs) {
    const picked = [...new Set(c.outputs.map((i) => present[i % present.length]))];
    body.push(statement(r, 'outputs', parts(r, picked)));
  }
  const lines = [`model ${c.name}`, ...shuffle(r, body)];
  let pick;
  if (c.derived && c.derived.name !== c.name) {
    pick = c.derived.name;
    lines.push(`model ${c.derived.name} extends ${c.name}`);
    if (c.derived.naming) lines.push(statement(r, 'naming', c.derived.naming));
    if (c.derived.classes) lines.push(statement(r, 'head', `classifier ${c.derived.classes}`));
    if (c.derived.eps) lines.push(statement(r, 'bn', `eps ${c.derived.eps}`));
    if (c.derived.blocks) {
      const osa = c.stages.map((s, i) => (s.dense ? -1 : i)).filter((i) => i >= 0);
      if (osa.length) lines.push(statement(r, STAGES[osa[c.derived.blocks[0] % osa.length]], `blocks ${c.derived.blocks[1]}`));
    }
  }
  return { text: layout(r, lines), pick };
}

/** A program that must compile: { text, pick } (pick: the model to load, else the first). */
export const validProgram = choicesOf(WIDE).map(renderValid);

/**
 * A small program that must compile and that every target runs in seconds (the differential
 * mode, fuzz/diff.mjs): { text, input: [N, 3, H, W] }, 1..3 stem layers, 1..3 stages of 1..2
 * blocks of narrow layers (at most 16 channels), odd and even sizes 16..40, any activation,
 * eSE / ECA, residuals, depthwise, dense stages, DCN v1 / v2 on OSA stages.
 */
export const smallValidProgram = choicesOf(SMALL).map((c) => ({ ...renderValid(c), input: c.input }));

/** A small model deriving from a zoo model, with changes that keep it valid. */
export const zooDerived = (zooNames) =>
  fc
    .record({
      base: fc.constantFrom(...zooNames),
      name: NAME,
      hw: fc.tuple(int(64, 128), int(64, 128)),
      blocks: opt(fc.tuple(fc.constantFrom(...STAGES), int(1, 3))),
      attention: opt(fc.constantFrom('eca', 'ese', 'none')),
      layers: opt(int(1, 6)),
      classes: opt(int(1, 30)),
      style: fc.nat(),
    })
    .filter((c) => c.name !== c.base)
    .map((c) => {
      const r = prng(c.style);
      const lines = [`model ${c.name} extends ${c.base}`, statement(r, 'input', `1x3x${c.hw[0]}x${c.hw[1]}`)];
      if (c.blocks) lines.push(statement(r, c.blocks[0], `blocks ${c.blocks[1]}`));
      const defaults = [...(c.attention ? [`attention ${c.attention}`] : []), ...(c.layers ? [`layers ${c.layers}`] : [])];
      if (defaults.length) lines.push(statement(r, 'osa', parts(r, defaults)));
      return { text: layout(r, lines), pick: undefined };
    });

// ---- grammar-valid programs with values anywhere ----------------------------------------------

/** Integers as written in a file: mostly plausible, sometimes zero, negative, past 2^31, 2^53 or Number's range. */
const wildInt = fc.oneof(
  { weight: 60, arbitrary: int(1, 48).map(String) },
  { weight: 2, arbitrary: int(-3, 300).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', '-0', '007', '2147483648', '4294967297', '9007199254740993', '99999999999999999999', '1' + '0'.repeat(400)) },
);
const count = fc.oneof({ weight: 12, arbitrary: int(1, 4).map(String) }, { weight: 1, arbitrary: wildInt.filter((s) => /^\d+$/.test(s)) });
const wildNumber = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('1e-5', '0.001', '1E-3') }, { weight: 1, arbitrary: fc.oneof(wildInt, fc.constantFrom('0.5', '-1e-3', '0.0', '1e400', '1e-400', '3.25', '.5', '1E+2')) });
const wildDims = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(int(1, 2), int(1, 4), int(8, 96), int(8, 96)).map((d) => d.join('x')) },
  { weight: 1, arbitrary: fc.array(int(0, 300), { minLength: 2, maxLength: 5 }).map((d) => d.join('x')) },
  { weight: 1, arbitrary: fc.array(wildInt.filter((s) => !s.startsWith('-')), { minLength: 2, maxLength: 5 }).map((d) => d.join('x')) },
);
const wildKernel = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('1', '3', '3x3', '5x5', '2x2') }, { weight: 1, arbitrary: fc.oneof(wildInt, wildDims) });
const wildName = fc.oneof(NAME, fc.constantFrom('stem', 'stage2', 'stage3', 'stage4', 'stage5', 'logits', 'stage6', 'model', 'vovnet39', 'V-19-eSE', 'ese_vovnet19b_dw'));

const osaItem = fc.tuple(wildInt, wildInt, opt(count)).map(([m, o, b]) => `osa ${m} -> ${o}${b ? ` x${b}` : ''}`);
const denseItem = fc.tuple(wildInt, count).map(([g, l]) => `dense growth ${g} x${l}`);
const item = fc.oneof(
  osaItem,
  denseItem,
  fc.tuple(fc.constantFrom('layers', 'blocks', 'mid', 'out', 'growth'), wildInt).map(([k, v]) => `${k} ${v}`),
  fc.oneof(wildInt, fc.constant('none')).map((v) => `bottleneck ${v}`),
  fc.oneof(fc.constant('none'), fc.tuple(opt(wildKernel), wildInt, opt(wildKernel)).map(([k, c, p]) => `${k ? `${k} -> ` : ''}${c}${p ? ` avgpool ${p}` : ''}`)).map((t) => `transition ${t}`),
  fc.oneof(fc.constant('none'), fc.tuple(wildKernel, opt(wildInt), fc.constantFrom('', ' ceil', ' floor')).map(([k, s, m]) => `${k}${s ? ` /${s}` : ''}${m}`)).map((p) => `maxpool ${p}`),
  fc.constantFrom(...RESIDUALS).map((v) => `residual ${v}`),
  fc.constantFrom('', ' true', ' false', ' yes', ' no').map((v) => `depthwise${v}`),
  fc.tuple(opt(fc.constantFrom(...ATTENTIONS)), opt(wildInt), opt(fc.constantFrom('last', 'all'))).map(([t, k, w]) => `attention${t ? ` ${t}` : ''}${k ? ` kernel ${k}` : ''}${w ? ` on ${w}` : ''}${!t && !k && !w ? ' none' : ''}`),
);
const stemLayer = fc.tuple(fc.constantFrom('conv', 'sepconv'), wildKernel, rare(wildInt, 20), wildInt, opt(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('1', '2') }, { weight: 1, arbitrary: wildInt }))).map(([k, kern, i, o, s]) => `${k} ${kern} ${i ? `${i}->` : ''}${o}${s ? ` /${s}` : ''}`);
const stemStmt = fc.array(stemLayer, { minLength: 1, maxLength: 4 }).map((ls) => ['stem', ls]);
const stageExtras = fc
  .record({
    pool: opt(fc.tuple(wildKernel, opt(fc.constantFrom('1', '2')), fc.constantFrom('', ' ceil', ' floor')).map(([k, st, m]) => `maxpool ${k}${st ? ` /${st}` : ''}${m}`)),
    residual: opt(fc.constantFrom('none', 'after-first', 'all').map((v) => `residual ${v}`)),
    depthwise: opt(fc.constantFrom('depthwise', 'depthwise false')),
    attention: opt(fc.constantFrom('attention ese', 'attention eca', 'attention eca kernel 3 on all', 'attention none')),
    other: rare(item, 12),
  })
  .map((r) => Object.values(r).filter(Boolean));
const stageBody = fc.tuple(fc.oneof({ weight: 5, arbitrary: osaItem }, { weight: 1, arbitrary: denseItem }), count, stageExtras).map(([b, l, xs]) => (b.startsWith('dense') ? [b, ...xs.filter((x) => /^(bottleneck|transition)/.test(x))] : [b, `layers ${l}`, ...xs]));
const headStmt = fc.oneof(wildInt.map((k) => `classifier ${k}`), fc.constant('backbone')).map((v) => ['head', v]);

const stmt = fc.oneof(
  fc.constantFrom(...NAMINGS).map((v) => ['naming', v]),
  fc.constantFrom('timm', 'detectron2').map((v) => ['preprocessing', v]),
  wildDims.map((v) => ['input', v]),
  wildNumber.map((v) => ['bn', `eps ${v}`]),
  stemStmt,
  fc.array(item, { minLength: 1, maxLength: 5 }).map((xs) => ['osa', xs]),
  fc.tuple(fc.constantFrom(...STAGES), fc.array(item, { minLength: 1, maxLength: 6 })),
  headStmt,
  fc.array(wildName, { minLength: 1, maxLength: 5 }).map((ns) => ['outputs', ns]),
);

/** Usually a whole model (stem, consecutive stages, head) that the extra statements then disturb. */
const skeleton = fc.tuple(wildDims, stemStmt, fc.array(stageBody, { minLength: 1, maxLength: 4 }), headStmt).map(([input, s, stages, h]) => [['input', input], s, ...stages.map((xs, i) => [STAGES[i], xs]), h]);
const grammarModel = fc.record({ name: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('m0', 'm1') }, { weight: 1, arbitrary: wildName }), base: rare(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('vovnet39', 'vovnet27_slim', 'V-19-slim-dw-eSE', 'ese_vovnet19b_dw', 'eca_vovnet39b', 'm0') }, { weight: 1, arbitrary: wildName }), 3), skeleton: fc.option(skeleton, { nil: [], freq: 6 }), statements: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(stmt, { maxLength: 3 }) }) });

/** Grammar-valid programs with any values: { text, pick }. */
export const grammarProgram = fc.record({ models: fc.array(grammarModel, { minLength: 1, maxLength: 2 }), pickIndex: opt(fc.nat()), style: fc.nat() }).map((c) => {
  const r = prng(c.style);
  const lines = [];
  for (const m of c.models) {
    lines.push(`model ${m.name}${m.base ? ` extends ${m.base}` : ''}`);
    for (const [kw, v] of shuffle(r, [...m.skeleton, ...m.statements])) lines.push(statement(r, kw, Array.isArray(v) ? parts(r, v) : v));
  }
  const pick = c.pickIndex === undefined ? undefined : c.models[c.pickIndex % c.models.length].name;
  return { text: layout(r, lines), pick };
});

// ---- mutations ---------------------------------------------------------------------------------

const INTERESTING_NUMBERS = ['0', '-1', '1', '2', '-0', '3.5', '1e400', '2147483648', '9007199254740993', '99999999999999999999', '1x1', '0x0', '3x3x3', 'x0', '.5', '1e', '1.2.3', '00'];
const VOCAB = ['model', 'extends', 'naming', 'stem', 'osa', 'stage2', 'stage5', 'stage9', 'head', 'outputs', 'input', 'bn', 'eps', 'layers', 'blocks', 'conv', 'sepconv', 'maxpool', 'ceil', 'residual', 'all', 'attention', 'eca', 'kernel', 'on', 'dense', 'growth', 'transition', 'avgpool', 'classifier', 'backbone', 'logits', '->', ',', ':', '/', '#', 'x2', 'none', '\n', '-', '-->', '\u00e9', '\u0000', '\ud83d\ude00', '\t'];

/** Tokens and the whitespace between them, so that token edits keep the rest intact. */
const TOKEN = /\s+|->|[,:/#]|[^\s,:/#]+/g;

function mutateOnce(text, m) {
  const { op, a, b, c } = m;
  const n = text.length;
  switch (op) {
    case 0: { // flip a bit of one UTF-16 unit
      if (!n) return text;
      const i = a % n;
      return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << (b % 8))) + text.slice(i + 1);
    }
    case 1: { // overwrite a character with any byte value (control characters, NUL, Latin-1)
      if (!n) return text;
      const i = a % n;
      return text.slice(0, i) + String.fromCharCode(b % 256) + text.slice(i + 1);
    }
    case 2: // truncate
      return text.slice(0, a % (n + 1));
    case 7: { // insert a word of the language, or a troublesome character
      const i = a % (n + 1);
      return text.slice(0, i) + VOCAB[b % VOCAB.length] + (c % 2 ? ' ' : '') + text.slice(i);
    }
    default: {
      const toks = text.match(TOKEN) ?? [];
      const words = toks.map((t, i) => (/^\s/.test(t) ? -1 : i)).filter((i) => i >= 0);
      if (!words.length) return text + VOCAB[b % VOCAB.length];
      const i = words[a % words.length];
      const j = words[b % words.length];
      const t = [...toks];
      if (op === 3) t.splice(i, 1); // delete a token
      else if (op === 4) t.splice(i, 0, t[i], ' '); // duplicate a token
      else if (op === 5) [t[i], t[j]] = [t[j], t[i]]; // swap two tokens
      else if (op === 6) { // change a number (or any token) to an interesting number
        const nums = words.filter((k) => /\d/.test(toks[k]));
        const k = nums.length ? nums[a % nums.length] : i;
        t[k] = c % 3 === 0 ? String(Number(/-?\d+/.exec(toks[k])?.[0] ?? 0) + ((c >> 2) % 5) - 2) : INTERESTING_NUMBERS[c % INTERESTING_NUMBERS.length];
      } else if (op === 8 || op === 9 || op === 10) { // line edits: delete, duplicate, swap
        const lines = text.split('\n');
        const x = a % lines.length;
        const y = b % lines.length;
        if (op === 8) lines.splice(x, 1);
        else if (op === 9) lines.splice(x, 0, lines[x]);
        else [lines[x], lines[y]] = [lines[y], lines[x]];
        return lines.join('\n');
      }
      return t.join('');
    }
  }
}

export const mutation = fc.record({ op: int(0, 10), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** Applies mutations in order. */
export function mutateText(text, muts) {
  return muts.reduce(mutateOnce, text);
}

/** Model names defined in a text (for 'file.vov:name' picks). */
export function modelNames(text) {
  return [...text.matchAll(/^\s*model\s+([A-Za-z_][A-Za-z0-9_-]*)/gm)].map((m) => m[1]);
}

/** Mutants of `corpus` texts and of valid programs: { text, pick }. */
export const mutatedProgram = (corpus) =>
  fc
    .record({
      base: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...corpus).map((text) => ({ text, pick: undefined })) }, { weight: 1, arbitrary: validProgram }),
      muts: fc.array(mutation, { minLength: 1, maxLength: 4 }),
      pick: fc.nat(),
    })
    .map(({ base, muts, pick }) => {
      const text = mutateText(base.text, muts);
      const names = modelNames(text);
      return { text, pick: pick % 3 === 0 && names.length ? names[pick % names.length] : undefined };
    });

// ---- --set arguments -----------------------------------------------------------------------------

const SET_TEMPLATES = [
  'naming', 'preprocessing', 'input', 'bn.eps', 'head', 'classes', 'outputs', 'stem', 'layers', 'blocks', 'residual', 'depthwise', 'attention', 'attention.where', 'attention.kernel',
  'stem.I.kind', 'stem.I.kernel', 'stem.I.stride', 'stem.I.out',
  'stageN', 'stageN.mid', 'stageN.out', 'stageN.layers', 'stageN.blocks', 'stageN.residual', 'stageN.depthwise', 'stageN.attention', 'stageN.attention.where', 'stageN.attention.kernel',
  'stageN.pool', 'stageN.pool.kernel', 'stageN.pool.stride', 'stageN.pool.ceil', 'stageN.growth', 'stageN.bottleneck', 'stageN.transition', 'stageN.transition.pool',
];
const SET_VALUES = [
  'timm', 'detectron2', 'vovnet-pytorch', '1x3x64x64', '2x3x33x47', '1x3x1x1', '1x3x0x8', '1x3x64', '1e-3', '0', '-1', '3', '1', '6', '100000000000000000000', 'backbone', 'classifier 10', 'classifier 0',
  'stage3,stage4', 'stem,logits', 'stage2 stage2', 'conv 3x3 32 /2, conv 3x3 64', 'sepconv 3 8', 'conv', 'after-first', 'all', 'none', 'true', 'false', 'eca kernel 3 on all', 'ese', 'eca kernel 4',
  'last', 'conv 3x3', '3x3 /2 ceil', 'none', '2x2', 'osa 64 -> 128 x2', 'dense growth 8 x3, transition 1x1 -> 32 avgpool 2x2', 'osa 64 -> 128, layers 2', '1x1 -> 16', '16', '', ' ', 'x2', '->', '#', 'a\nb', '\u00e9',
];

const setKey = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...SET_TEMPLATES), int(0, 6), int(0, 5)).map(([t, n, i]) => t.replace('N', String(n)).replace('I', String(i))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const setValue = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SET_VALUES) }, { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...SET_VALUES), fc.array(mutation, { maxLength: 2 })).map(([v, m]) => mutateText(v, m)) }, { weight: 1, arbitrary: fc.string({ maxLength: 16 }) });

/** --set arguments, mostly key=value with documented keys. */
export const setArgs = fc.array(fc.oneof({ weight: 12, arbitrary: fc.tuple(setKey, setValue).map(([k, v]) => `${k}=${v}`) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), { maxLength: 4 });

/** An input shape as `loadModel(..., { inputShape })` gets it from a .npy: usually sane. */
export const inputShape = opt(fc.oneof({ weight: 6, arbitrary: fc.tuple(int(1, 2), fc.constantFrom(1, 3, 4), int(1, 96), int(1, 96)) }, { weight: 1, arbitrary: fc.array(fc.integer({ min: -1, max: 300 }), { maxLength: 5 }) }));

// ---- scaling programs: sizes and counts far past any real model --------------------------------
//
// Each is small enough to generate in milliseconds (at most ~2 MB of text) but scales what the
// front end iterates over: items on one line, lines, models in an extends chain, digits of a
// number, dimensions of a shape and their products, blocks and layers at their caps, the length
// and number of --set arguments. vovc must answer (compile or diagnose) within the campaign's
// time, memory and output budgets (fuzz/oracle.mjs BUDGETS).

const BASE_LINES = ['  input 1x3x32x32', '  stem: conv 3x3 3->8 /2', '  stage2: osa 8 -> 16, layers 2', '  head: classifier 10'];
const base = (replace = {}) => BASE_LINES.map((l) => {
  const kw = l.trim().split(/[: ]/)[0];
  return kw in replace ? replace[kw] : l;
}).filter((l) => l !== undefined);
const sized = (xs, n) => Array.from({ length: n }, (_, i) => xs[i % xs.length]);

/** The repeated item of a long line: [statement keyword, item, separator]. */
const LINE_ITEMS = [
  ['stem', 'conv 3x3 8', ', '], ['stem', 'sepconv 3 4', ' '], ['stem', 'conv 3x3 8 /2', ', '],
  ['outputs', 'stage2', ', '], ['outputs', 'stem', ' '], ['outputs', 'stage9', ', '],
  ['stage2', 'layers 2', ', '], ['stage2', 'osa 8 -> 16 x1', ', '], ['stage2', 'attention eca kernel 3', ' '], ['stage2', 'residual none', ', '], ['stage2', 'depthwise', ' '],
  ['stage2', '@!', ' '], ['stage2', '->', ' '], ['stage2', ',', ''], ['stage2', 'x2', ' '], ['stage2', '9', ' '], ['stage2', 'kernel', ' '],
  ['osa', 'layers 2', ', '], ['head', 'classifier 10', ' '], ['input', '1x3x32x32', ' '],
];

const longLine = fc.record({ item: fc.nat(LINE_ITEMS.length - 1), n: fc.oneof(int(1000, 5000), int(5000, 30000)), keepValid: fc.boolean() }).map(({ item, n, keepValid }) => {
  const [kw, it, sep] = LINE_ITEMS[item];
  // A valid stem of thousands of layers lowers to thousands of nodes: at most 3000 of them,
  // stride 1 (a /2 stem of 3000 layers is diagnosed as a spatial collapse, which is the point).
  const count = kw === 'stem' ? Math.min(n, 3000) : n;
  const line = `  ${kw}: ${sized([it], count).join(sep)}`;
  const lines = kw === 'stage2' && keepValid ? base({ stage2: `  stage2: osa 8 -> 16, layers 2 ${sized([it], count).join(sep)}` }) : base({ [kw]: line });
  if (kw === 'outputs') lines.push(line);
  return { sub: 'line', text: `model m\n${lines.join('\n')}\n` };
});

/** One huge token or run of characters on a line: a name, a comment, spaces, a number. */
const hugeToken = fc.record({ what: fc.nat(7), n: fc.oneof(int(10_000, 100_000), int(100_000, 1_000_000)) }).map(({ what, n }) => {
  const t = [
    () => `model ${'a'.repeat(n)}\n${base().join('\n')}\n`,
    () => `model m extends ${'vovnet39'.repeat(Math.ceil(n / 8))}\n`,
    () => `model m\n${base().join('\n')}\n  # ${'c'.repeat(n)}\n`,
    () => `model m\n${base({ head: `  head:${' '.repeat(n)}classifier 10` }).join('\n')}\n`,
    () => `model m\n${base({ stage2: `  stage2: osa 8 -> 16, layers ${'9'.repeat(n)}` }).join('\n')}\n`,
    () => `model m\n${base().join('\n')}\n  ${'x'.repeat(n)}\n`,
    () => `model m\n${base({ stage2: `  stage2: osa 8 -> 16, layers 2, ${'x'.repeat(n)} 3` }).join('\n')}\n`,
    () => `${'\n'.repeat(n)}model m\n${base().join('\n')}\n`,
  ][what]();
  return { sub: 'token', text: t };
});

/** Thousands of lines: repeated or unknown statements, blank and comment lines, models. */
const manyLines = fc.record({ what: fc.nat(6), n: fc.oneof(int(1000, 5000), int(5000, 20000)) }).map(({ what, n }) => {
  const body = base().join('\n');
  const t = [
    () => `model m\n${body}\n${sized(['  frobnicate 3', '  stage9: osa 1 -> 1'], n).join('\n')}\n`,
    () => `model m\n${body}\n${sized(['  stage2: osa 8 -> 16, layers 2', '  head: classifier 3'], n).join('\n')}\n`,
    () => `model m\n${sized(['', '# comment', '   ', '\t# x'], n).join('\n')}\n${body}\n`,
    () => Array.from({ length: n }, (_, i) => `model q${i}\n${body}`).join('\n') + '\n',
    () => Array.from({ length: n }, () => `model q\n${body}`).join('\n') + '\n',
    () => Array.from({ length: n }, (_, i) => `model q${i}\n  stem: conv 3x3 ${i % 7}\n  stage2: osa 8 -> ${i % 5}\n  head: classifier ${i % 3}`).join('\n') + '\n',
    () => `model m\n${body}\n${Array.from({ length: n }, (_, i) => `  stage${(i % 4) + 2}: osa ${i} -> ${i + 1} x${i % 70}, layers ${i % 55}`).join('\n')}\n`,
  ][what]();
  return { sub: 'lines', text: t, pick: what >= 3 && what <= 5 ? `q${Math.floor(n / 2)}` : undefined };
});

/** Thousands of models in an extends chain (or a tree), ending well or in a cycle or an unknown base. */
const extendsChain = fc.record({ n: fc.oneof(int(100, 1000), int(1000, 5000)), shape: fc.nat(5), order: fc.boolean(), zooRoot: fc.boolean() }).map(({ n, shape, order, zooRoot }) => {
  const r = prng(n * 31 + shape);
  const changes = ['  head: classifier 7', '  input 1x3x40x40', '  osa: layers 3', '  stage2: blocks 2', '  bn eps 1e-3', '  naming detectron2', '  stage2: attention ese', '  activation silu', ''];
  const models = [];
  const root = zooRoot ? 'vovnet27_slim' : undefined;
  for (let i = 0; i < n; i++) {
    const baseName = shape === 1 && i > 0 ? `m${r.below(i)}` : i > 0 ? `m${i - 1}` : root;
    const ch = r.pick(changes);
    models.push(`model m${i}${baseName ? ` extends ${baseName}` : ''}\n${i === 0 && !root ? base().join('\n') + '\n' : ''}${ch ? ch + '\n' : ''}`);
  }
  if (shape === 2) models[0] = models[0].replace('model m0', `model m0 extends m${n - 1}`); // a cycle through all
  if (shape === 3) models[0] = models[0].replace('model m0', `model m0 extends m${n}x`); // an unknown root (did you mean m...)
  if (shape === 4) models.push(`model z extends m${n}`); // one past the end
  if (order) models.reverse(); // bases defined after their users
  return { sub: 'extends', text: models.join(''), pick: shape === 4 ? 'z' : `m${n - 1}` };
});

/** Numbers of thousands of digits, tiny and huge exponents, shapes of thousands of dimensions. */
const hugeNumbers = fc.record({ slot: fc.nat(8), form: fc.nat(7), n: int(300, 100_000) }).map(({ slot, form, n }) => {
  const num = [
    () => '9'.repeat(n), () => `${'0'.repeat(n)}1`, () => `1${'0'.repeat(n)}`, () => `-${'9'.repeat(n)}`,
    () => `0.${'0'.repeat(n)}1`, () => `1e-${'9'.repeat(Math.min(n, 5000))}`, () => `1e${'9'.repeat(Math.min(n, 5000))}`, () => `${'1'.repeat(n)}.${'1'.repeat(n)}`,
  ][form]();
  const int = /^-?\d+$/.test(num) ? num : '9'.repeat(n);
  const slots = [
    () => base({ stem: `  stem: conv 3x3 3->${int} /2` }),
    () => base({ stage2: `  stage2: osa ${int} -> 16, layers 2` }),
    () => base({ stage2: `  stage2: osa 8 -> 16 x${int.replace('-', '')}, layers 2` }),
    () => base({ head: `  head: classifier ${int}` }),
    () => [...base(), `  bn eps ${num}`],
    () => base({ input: `  input ${sized(['1', '3', '32'], Math.min(n, 20000)).join('x')}` }),
    () => base({ input: `  input 1x3x${int}x${int}` }),
    () => base({ stem: `  stem: conv ${int}x${int} 8` }),
    () => base({ stage2: `  stage2: maxpool ${int} /${int}, osa 8 -> 16, layers 2, attention eca kernel ${int}` }),
  ];
  return { sub: 'numbers', text: `model m\n${slots[slot]().join('\n')}\n` };
});

/** Dimensions near 2^31 and shapes whose products pass 2^50, in the file, by --set or as an input shape. */
const NEAR_2_31 = [2147483647, 2147483648, 2147483646, 1073741824, 46341, 46340, 65536, 33554432, 16777216, 1048576, 4294967295, 4294967296];
const hugeShape = fc.record({ dims: fc.array(fc.oneof(fc.constantFrom(...NEAR_2_31), int(1, 64)), { minLength: 4, maxLength: 4 }), how: fc.nat(4), width: fc.oneof(fc.constantFrom(...NEAR_2_31), int(1, 16)), zoo: fc.constantFrom('vovnet39', 'ese_vovnet19b_dw', 'V-19-slim-dw-eSE', 'vovnet27_slim') }).map(({ dims, how, width, zoo }) => {
  const shape = dims.join('x');
  switch (how) {
    case 0: return { sub: 'shape', text: `model m\n${base({ input: `  input ${shape}` }).join('\n')}\n` };
    case 1: return { sub: 'shape', zoo, set: [`input=${shape}`] };
    case 2: return { sub: 'shape', zoo, inputShape: dims };
    case 3: return { sub: 'shape', text: `model m\n${base({ input: `  input ${shape}`, stem: `  stem: conv 3x3 3->${width} /2, sepconv 3 ${width}`, stage2: `  stage2: osa ${width} -> ${width} x2, layers 2, attention eca` }).join('\n')}\n` };
    default: return { sub: 'shape', text: `model m\n${base({ stem: `  stem: conv 3x3 3->${width}`, stage2: `  stage2: osa ${width} -> ${width}, layers 2`, head: `  head: classifier ${width}` }).join('\n')}\n`, inputShape: [1, 3, dims[2], dims[3]] };
  }
});

/** Blocks, layers, dense layers, stem layers and stages at (and one past) their caps. */
const atCaps = fc.record({
  blocks: fc.constantFrom(63, 64, 65),
  layers: fc.constantFrom(48, 49, 50),
  dense: fc.constantFrom(127, 128, 129),
  stages: int(1, 4),
  denseEvery: fc.nat(3),
  extras: fc.constantFrom('', ', attention ese on all', ', attention eca on all, residual after-first', ', depthwise, attention ese', ', deform v2', ', residual all'),
  stem: fc.constantFrom(1, 16, 64, 256),
  act: fc.constantFrom('relu', 'hardswish'),
}).map(({ blocks, layers, dense, stages, denseEvery, extras, stem, act }) => {
  const lines = ['model m', '  input 1x3x16x16', `  activation ${act}`, `  stem: ${sized(['conv 3x3 4'], stem).join(', ')}`];
  for (let i = 0; i < stages; i++) lines.push(i === denseEvery ? `  ${STAGES[i]}: dense growth 1 x${dense}, bottleneck 2` : `  ${STAGES[i]}: osa 2 -> 4 x${blocks}, layers ${layers}${extras}`);
  lines.push('  head: classifier 3');
  return { sub: 'caps', text: lines.join('\n') + '\n' };
});

/** A huge --set key or value, or thousands of --set arguments. */
const hugeSet = fc.record({ what: fc.nat(6), n: fc.oneof(int(1000, 10_000), int(10_000, 1_000_000)), zoo: fc.constantFrom('vovnet39', 'ese_vovnet19b_dw', 'V-19-slim-dw-eSE') }).map(({ what, n, zoo }) => {
  const set = [
    () => [`stage2.${'a'.repeat(n)}=3`],
    () => [`${'stage2.layers'.repeat(Math.ceil(n / 13))}=3`],
    () => [`stage2.layers=${'9'.repeat(n)}`],
    () => [`stem=${sized(['conv 3x3 8'], Math.min(3000, Math.ceil(n / 12))).join(', ')}`],
    () => sized(['layers=3', 'blocks=2', 'attention=ese'], Math.min(n, 20000)),
    () => Array.from({ length: Math.min(n, 20000) }, (_, i) => `stage${i}.lyers=${i}`),
    () => [`outputs=${sized(['stage2', 'stage3'], Math.min(n, 20000)).join(',')}`],
  ][what]();
  return { sub: 'set', zoo, set };
});

/** A scaling program: { sub, text? | zoo?, pick?, set?, inputShape? }. */
export const scaledProgram = fc.oneof(longLine, hugeToken, manyLines, extendsChain, hugeNumbers, hugeShape, atCaps, hugeSet);
