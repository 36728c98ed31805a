// The verdict on one fuzz case. vovc may succeed or report a user error (a VovcError with
// well-formed diagnostics); anything else escaping is a bug and is rethrown as a Bug.
//
// The vovc API is passed in (`api`), so that the vitest tests use src/ and the fuzz driver
// dist/: { loadModel, lowerSpec, verify, loadCheckpoint, findNonFinite, bindCheckpoint,
// VovcError, formatDiagnostic }.
import { writeFileSync } from 'node:fs';

export class Bug extends Error {
  constructor(message, cause) {
    super(message);
    this.name = 'Bug';
    this.cause = cause;
  }
}

/** The checks every reported diagnostic must pass: a code, a one-line message, a place. */
function checkDiagnostics(api, e, where) {
  if (!e.diagnostics.length) throw new Bug(`${where}: VovcError without diagnostics: ${e.message}`, e);
  for (const d of e.diagnostics) {
    if (!/^[EW]\d{4}$/.test(d.code)) throw new Bug(`${where}: diagnostic code '${d.code}' is not of the form E1234`, e);
    if (!d.message || /[\r\n]/.test(d.message)) throw new Bug(`${where}: diagnostic ${d.code} message is empty or spans lines: ${JSON.stringify(d.message)}`, e);
    if (!d.span && !d.subject && !/\S+:/.test(d.message)) throw new Bug(`${where}: diagnostic ${d.code} says neither where nor what: ${d.message}`, e);
    if (d.span && !(d.span.line >= 1 && d.span.col >= 1 && d.span.endLine >= d.span.line)) throw new Bug(`${where}: diagnostic ${d.code} has an invalid span ${JSON.stringify(d.span)}`, e);
    // Printing must work too: the CLI formats every diagnostic with its source line.
    api.formatDiagnostic(d, e.sources);
  }
}

/** Classifies a thrown value: 'diag' for a user error, else throws a Bug. */
function userError(api, e, where) {
  if (e instanceof api.VovcError) {
    checkDiagnostics(api, e, where);
    return 'diag';
  }
  if (e instanceof Bug) throw e;
  throw new Bug(`${where}: ${e?.name ?? typeof e}: ${e?.message ?? String(e)}`, e);
}

/**
 * A DSL case: { text, pick?, set?, inputShape?, mustCompile? } written to `file` (a .vov
 * path), or { zoo: name, set?, inputShape? }; loaded like `vovc check` does: loadModel,
 * lowerSpec, verify. Returns 'ok' or 'diag'.
 */
export function runDslCase(api, c, file) {
  if (c.zoo === undefined) writeFileSync(file, c.text);
  const target = c.zoo ?? (c.pick ? `${file}:${c.pick}` : file);
  let outcome;
  try {
    const { spec } = api.loadModel(target, { set: c.set, inputShape: c.inputShape });
    const g = api.lowerSpec(spec);
    const errs = api.verify(g);
    // The front end promised a valid spec: lowering it must give a graph the verifier accepts.
    if (errs.length) throw new Bug(`verify rejects the lowered graph: ${errs.map((d) => d.message).join('; ')}`);
    outcome = 'ok';
  } catch (e) {
    outcome = userError(api, e, 'dsl');
  }
  if (c.mustCompile && outcome !== 'ok') {
    let detail = '';
    try {
      api.loadModel(target, { set: c.set, inputShape: c.inputShape });
    } catch (e) {
      detail = e.diagnostics ? e.diagnostics.map((d) => api.formatDiagnostic(d, e.sources)).join('\n') : String(e);
    }
    throw new Bug(`a valid program was rejected:\n${detail}`);
  }
  return outcome;
}

/**
 * A weights case: `bytes` written to `file` and loaded like `vovc build --weights` does:
 * loadCheckpoint, findNonFinite, bindCheckpoint against `graph`. Returns 'ok' or 'diag'.
 */
export async function runWeightsCase(api, bytes, file, graph) {
  writeFileSync(file, bytes);
  try {
    const ck = await api.loadCheckpoint(file);
    api.findNonFinite(ck.tensors);
    api.bindCheckpoint(graph, ck.tensors, { file });
    return 'ok';
  } catch (e) {
    return userError(api, e, 'weights');
  }
}
