// The model zoo (models/*.vov at the package root) and the entry point of the front end:
// loadModel(zoo name | file.vov | file.vov:name, { set, inputShape }) -> ModelSpec.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { notARegularFile } from '../io/files.js';

/** The largest .vov file vovc reads. */
const MAX_MODEL_FILE_BYTES = 16 << 20;
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closest, SourceMap, VovcError, type Diagnostic } from '../diag/diagnostics.js';
import type { ModelSpec } from '../model/spec.js';
import { BLOCKING_CODES, MSG, didYouMean } from './messages.js';
import { Parser, type FileAst, type ModelAst } from './parser.js';
import { resolveModel, sortDiagnostics, type ModelLookup } from './resolve.js';

export interface LoadOptions {
  /** --set arguments, "key=value" each (docs/DSL.md lists the keys). */
  readonly set?: readonly string[];
  /** Shape of the actual input (e.g. of a .npy); overrides the model's and --set's input. */
  readonly inputShape?: readonly number[];
}

export interface LoadedSpec {
  readonly spec: ModelSpec;
  /** Every text the spec's spans point into (model files, the zoo files, --set). */
  readonly sources: SourceMap;
}

interface Zoo {
  readonly files: readonly FileAst[];
  readonly byName: ReadonlyMap<string, ModelAst>;
  readonly texts: ReadonlyMap<string, string>;
}

let zooCache: Zoo | undefined;

/** The package root: the first folder above this module holding package.json and models/ (src/dsl or dist/src/dsl). */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    if (dirname(dir) === dir) throw new VovcError(MSG.noZoo.at({}, here));
  }
}

/** Paths in messages: relative to the working directory when below it, else absolute. */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function loadZoo(): Zoo {
  if (zooCache) return zooCache;
  const dir = join(packageRoot(), 'models');
  const diags: Diagnostic[] = [];
  const files: FileAst[] = [];
  const texts = new Map<string, string>();
  const byName = new Map<string, ModelAst>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.vov')).sort()) {
    const file = displayPath(join(dir, f));
    const text = readFileSync(join(dir, f), 'utf8');
    texts.set(file, text);
    const ast = Parser.parseFile(text, file, diags);
    files.push(ast);
    for (const m of ast.models) {
      const first = byName.get(m.name.text);
      if (first) diags.push(MSG.duplicateModel.at({ span: m.name.span, notes: [`first defined at ${first.span.file}:${first.span.line}:${first.span.col}`] }, m.name.text));
      else byName.set(m.name.text, m);
    }
  }
  if (diags.length) throw withSources(new VovcError(diags), sourcesOf(texts));
  zooCache = { files, byName, texts };
  return zooCache;
}

function sourcesOf(texts: ReadonlyMap<string, string>, into = new SourceMap()): SourceMap {
  for (const [f, t] of texts) into.add(f, t);
  return into;
}

function withSources(e: VovcError, sources: SourceMap): VovcError {
  e.sources ??= sources;
  return e;
}

/** Every built-in model: zoo files in name order, models in file order. */
export function zooNames(): string[] {
  return loadZoo().files.flatMap((f) => f.models.map((m) => m.name.text));
}

/** 'extends' looks in the model's own file first, then in the zoo. */
function lookupFor(zoo: Zoo, user?: FileAst): ModelLookup {
  const local = (from: ModelAst) => (user && from.file === user.file ? user.models : []);
  // By name, the first model of a name in the file (a duplicate is reported elsewhere): a lookup
  // per 'extends' step is O(1), so a chain of n models resolves in O(n).
  const byName = new Map<string, ModelAst>();
  for (const m of user?.models ?? []) if (!byName.has(m.name.text)) byName.set(m.name.text, m);
  return {
    find: (name, from) => (user && from.file === user.file ? byName.get(name) : undefined) ?? zoo.byName.get(name),
    names: (from) => [...local(from).map((m) => m.name.text), ...zoo.byName.keys()],
  };
}

/**
 * Loads a model: a zoo name, a .vov file (its first model) or 'file.vov:name'. Resolves
 * 'extends', applies `set` and `inputShape`, checks everything and throws one VovcError
 * holding every diagnostic found (with `sources` attached for printing).
 */
export function loadModel(nameOrPath: string, opts: LoadOptions = {}): LoadedSpec {
  const sources = new SourceMap();
  try {
    const zoo = loadZoo();
    sourcesOf(zoo.texts, sources);
    const pick = /^(.*\.vov):([^/\\]+)$/.exec(nameOrPath);
    const isFile = pick !== null || /\.vov$/.test(nameOrPath) || /[/\\]/.test(nameOrPath);
    if (!isFile) {
      const model = zoo.byName.get(nameOrPath);
      if (!model) {
        const notes = [...didYouMean(closest(nameOrPath, zoo.byName.keys()))];
        if (existsSync(nameOrPath)) notes.push(`a file of that name exists; model files must end in .vov`);
        else notes.push("'vovc list' shows the zoo; a model file must end in .vov");
        throw new VovcError(MSG.unknownModel.at({ notes }, nameOrPath));
      }
      return { spec: resolveModel(model, lookupFor(zoo), { ...opts, sources, source: nameOrPath }), sources };
    }
    const path = pick ? pick[1] : nameOrPath;
    let text: string;
    // A model file is text of a few KB: 16 MiB is far past any real one, and /dev/zero or a FIFO is refused unread.
    const special = notARegularFile(path, MAX_MODEL_FILE_BYTES);
    if (special) throw new VovcError(MSG.cannotRead.at({}, path, special));
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a folder' : err.message;
      throw new VovcError(MSG.cannotRead.at({}, path, reason));
    }
    // A UTF-8 byte order mark (editors on Windows write one) is not part of the text.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    sources.add(path, text);
    const diags: Diagnostic[] = [];
    const ast = Parser.parseFile(text, path, diags);
    const seen = new Map<string, ModelAst>();
    for (const m of ast.models) {
      const first = seen.get(m.name.text);
      if (first) diags.push(MSG.duplicateModel.at({ span: m.name.span, notes: [`first defined at ${path}:${first.span.line}:${first.span.col}`] }, m.name.text));
      else seen.set(m.name.text, m);
    }
    if (!diags.length && !ast.models.length) diags.push(MSG.emptyFile.at({ subject: path }, path));
    if (diags.some((d) => BLOCKING_CODES.has(d.code)) || !ast.models.length) throw new VovcError(diags);
    let model = ast.models[0];
    if (pick) {
      const want = pick[2];
      const found = seen.get(want);
      if (!found) {
        const present = ast.models.map((m) => m.name.text);
        throw new VovcError([...diags, MSG.modelNotInFile.at({ notes: didYouMean(closest(want, present)) }, want, path, present)]);
      }
      model = found;
    }
    let spec: ModelSpec;
    try {
      spec = resolveModel(model, lookupFor(zoo, ast), { ...opts, sources, source: path });
    } catch (e) {
      // The parser's non-blocking findings go with the semantic ones, in reading order.
      if (e instanceof VovcError) throw new VovcError(sortDiagnostics([...diags, ...e.diagnostics]));
      throw e;
    }
    if (diags.length) throw new VovcError(diags);
    return { spec, sources };
  } catch (e) {
    if (e instanceof VovcError) withSources(e, sources);
    throw e;
  }
}
