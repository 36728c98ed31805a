// The backends' handlebars templates (templates/<backend>/*.hbs: syntax only) reach a build
// precompiled: templates/precompiled.cjs holds every template as handlebars' template spec,
// made from the .hbs files by scripts/templates.mjs (`npm run templates`; `npm run build` fails
// when the committed file is stale). A build then loads handlebars' runtime only: compiling the
// templates on every build cost ~100-200 ms and ~7-15 MB of resident memory (the compiler and
// its garbage).

import { createRequire } from 'node:module';
import { join } from 'node:path';
import type HandlebarsApi from 'handlebars';
import runtime from 'handlebars/runtime.js';
import { packageRoot } from '../util/paths.js';

// handlebars/runtime.d.ts declares nothing; the runtime is the full API minus the compiler.
const Handlebars = runtime as unknown as Pick<typeof HandlebarsApi, 'create'>;

export type Template = HandlebarsApi.TemplateDelegate;

/** The options every template is compiled with (the precompiler uses the same). */
export const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;

type Specs = Record<string, Record<string, unknown>>;
let specs: Specs | undefined;
const loaded = new Map<string, Record<string, Template>>();

/** The templates of `backend` ('cuda', 'wgsl') by file name without '.hbs'. */
export function backendTemplates(backend: string): Record<string, Template> {
  let t = loaded.get(backend);
  if (t) return t;
  specs ??= createRequire(import.meta.url)(join(packageRoot(), 'templates', 'precompiled.cjs')) as Specs;
  const own = specs[backend];
  if (!own) throw new Error(`internal: templates/precompiled.cjs has no templates for '${backend}' (run npm run templates)`);
  const hb = Handlebars.create();
  t = {};
  for (const [name, spec] of Object.entries(own)) t[name] = hb.template(spec as never);
  loaded.set(backend, t);
  return t;
}
