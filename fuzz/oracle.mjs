// The verdict on one fuzz case. vovc may succeed or report a user error (a VovcError with
// well-formed diagnostics); anything else escaping is a bug and is rethrown as a Bug. A case
// also fails when it exceeds a budget (BUDGETS): the text vovc would print here is measured in
// place (an over-long answer is a Bug named 'budget: output'); the time and the memory of a
// case are measured by the driver (fuzz/run.mjs), which re-runs a case that looks over budget
// alone in a process of its own before it names it 'budget: time' or 'budget: memory'.
//
// The vovc API is passed in (`api`), so that the vitest tests use src/ and the fuzz driver
// dist/: { loadModel, lowerSpec, verify, loadCheckpoint, findNonFinite, bindCheckpoint,
// VovcError, formatDiagnostic, formatDiagnostics? }.
import { writeFileSync } from 'node:fs';

/**
 * What one case may cost. time: vovc's own work on the case (loading, lowering, verifying,
 * formatting what it prints; not the fuzzer's generation or checks), re-measured alone before
 * it counts; output: what vovc prints for it (the diagnostics as the CLI formats them, a CLI
 * case's stdout + stderr); memory: the peak resident set of a process running the case (the
 * vovc process for CLI cases, a fresh `node fuzz/one.mjs` process for in-process cases).
 */
const fromEnv = (name, otherwise) => (process.env[name] ? Number(process.env[name]) : otherwise);
export const BUDGETS = {
  timeMs: fromEnv('VOVC_FUZZ_BUDGET_TIME_MS', 10_000),
  outputBytes: fromEnv('VOVC_FUZZ_BUDGET_OUTPUT_BYTES', 100 * 1024),
  memoryBytes: fromEnv('VOVC_FUZZ_BUDGET_MEMORY_BYTES', 1 << 30),
};
/** Sets the budgets here and for the processes and worker threads started after (their environment). */
export function setBudgets(b) {
  Object.assign(BUDGETS, b);
  process.env.VOVC_FUZZ_BUDGET_TIME_MS = String(BUDGETS.timeMs);
  process.env.VOVC_FUZZ_BUDGET_OUTPUT_BYTES = String(BUDGETS.outputBytes);
  process.env.VOVC_FUZZ_BUDGET_MEMORY_BYTES = String(BUDGETS.memoryBytes);
}

export class Bug extends Error {
  constructor(message, cause) {
    super(message);
    this.name = 'Bug';
    this.cause = cause;
  }
}

/** The diagnostics whose printing is checked: all of the first 200, then every 97th (a case may report 100,000). */
const checked = (ds) => ds.filter((_, i) => i < 200 || i % 97 === 0);

/** The checks every reported diagnostic must pass: a code, a one-line message, a place. */
function checkDiagnostics(api, e, where) {
  if (!e.diagnostics.length) throw new Bug(`${where}: VovcError without diagnostics: ${e.message}`, e);
  for (const d of e.diagnostics) {
    if (!/^[EW]\d{4}$/.test(d.code)) throw new Bug(`${where}: diagnostic code '${d.code}' is not of the form E1234`, e);
    if (!d.message || /[\r\n]/.test(d.message)) throw new Bug(`${where}: diagnostic ${d.code} message is empty or spans lines: ${JSON.stringify(d.message.slice(0, 300))}`, e);
    // A place: a span, a subject, or a file named in the message ('FILE: ...' or '... in FILE.vov').
    if (!d.span && !d.subject && !/\S+:|\S\.(vov|pth|pt|bin|safetensors|npy)\b/.test(d.message)) throw new Bug(`${where}: diagnostic ${d.code} says neither where nor what: ${d.message.slice(0, 300)}`, e);
    if (d.span && !(d.span.line >= 1 && d.span.col >= 1 && d.span.endLine >= d.span.line)) throw new Bug(`${where}: diagnostic ${d.code} has an invalid span ${JSON.stringify(d.span)}`, e);
  }
  // Printing must work too: the CLI formats every diagnostic with its source line.
  for (const d of checked(e.diagnostics)) api.formatDiagnostic(d, e.sources);
}

/** What the CLI prints for a list of diagnostics (bounded by vovc: formatDiagnostics), in bytes. */
function printedBytes(api, ds, sources) {
  const lines = api.formatDiagnostics ? api.formatDiagnostics(ds, sources) : ds.map((d) => api.formatDiagnostic(d, sources));
  let n = 0;
  for (const l of lines) n += Buffer.byteLength(l) + 1;
  return n;
}

/** The output budget: what vovc prints for the case. */
function checkOutput(bytes, where) {
  if (bytes > BUDGETS.outputBytes) throw new Bug(`budget: output: ${where} prints ${bytes} bytes of diagnostics (budget ${BUDGETS.outputBytes})`);
}

/** Classifies a thrown value: 'diag' for a user error, else throws a Bug. */
function userError(api, e, where) {
  if (e instanceof api.VovcError) {
    checkDiagnostics(api, e, where);
    return 'diag';
  }
  if (e instanceof Bug) throw e;
  throw new Bug(`${where}: ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 2000)}`, e);
}

/**
 * A DSL case: { text, pick?, set?, inputShape?, mustCompile? } written to `file` (a .vov
 * path), or { zoo: name, set?, inputShape? }; loaded like `vovc check` does: loadModel,
 * lowerSpec, verify. Returns 'ok' or 'diag'; `m` receives { ms, printed }: vovc's time on the
 * case (with formatting what it prints) and the bytes it prints.
 */
export function runDslCase(api, c, file, m = {}) {
  if (c.zoo === undefined) writeFileSync(file, c.text);
  const target = c.zoo ?? (c.pick ? `${file}:${c.pick}` : file);
  let outcome;
  let error;
  const t0 = performance.now();
  try {
    const { spec } = api.loadModel(target, { set: c.set, inputShape: c.inputShape });
    const g = api.lowerSpec(spec);
    const errs = api.verify(g);
    m.ms = performance.now() - t0;
    m.printed = 0;
    // The front end promised a valid spec: lowering it must give a graph the verifier accepts.
    if (errs.length) throw new Bug(`verify rejects the lowered graph: ${errs.slice(0, 5).map((d) => d.message).join('; ')}`);
    outcome = 'ok';
  } catch (e) {
    if (e instanceof api.VovcError) {
      m.printed = printedBytes(api, e.diagnostics, e.sources);
      m.ms = performance.now() - t0;
      error = e;
    }
    outcome = userError(api, e, 'dsl');
  }
  if (c.mustCompile && outcome !== 'ok') {
    const detail = error.diagnostics.slice(0, 10).map((d) => api.formatDiagnostic(d, error.sources)).join('\n');
    throw new Bug(`a valid program was rejected:\n${detail}`);
  }
  checkOutput(m.printed, 'dsl');
  return outcome;
}

/**
 * A weights case: `bytes` written to `file` and loaded like `vovc build --weights` does:
 * loadCheckpoint, findNonFinite, bindCheckpoint against `graph`. Returns 'ok' or 'diag'; `m`
 * receives { ms, printed } (the printed diagnostics: the error's, or the binding report's).
 */
export async function runWeightsCase(api, bytes, file, graph, m = {}) {
  writeFileSync(file, bytes);
  const t0 = performance.now();
  let outcome;
  try {
    const ck = await api.loadCheckpoint(file);
    api.findNonFinite(ck.tensors);
    const r = api.bindCheckpoint(graph, ck.tensors, { file });
    m.printed = printedBytes(api, r.report?.diagnostics ?? []);
    m.ms = performance.now() - t0;
    outcome = 'ok';
  } catch (e) {
    if (e instanceof api.VovcError) {
      m.printed = printedBytes(api, e.diagnostics, e.sources);
      m.ms = performance.now() - t0;
    }
    outcome = userError(api, e, 'weights');
  }
  checkOutput(m.printed, 'weights');
  return outcome;
}
