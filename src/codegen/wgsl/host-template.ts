// The host module ships twice: model.ts (typed source) and model.js (what browsers and Node
// import). Both are rendered from handlebars templates; model.js.hbs is derived from
// model.ts.hbs when vovc itself is built (`npm run templates`), not when an artifact is built,
// so that `vovc build --target wgsl` never loads the TypeScript compiler (~70 MB of memory and
// ~0.3 s of start-up).
//
// Derivation: every mustache of the TS template becomes a unique identifier (valid wherever the
// template puts a value, and inert in comments), the TS is transpiled, and the identifiers
// become the mustaches again. test/wgsl/host-template.test.ts checks that the committed JS
// template is current and that rendering it equals transpiling the rendered TS.

const MUSTACHE = /\{\{\{?[^{}]+\}?\}\}/g;
const placeholder = (i: number): string => `__vovc_hb_${i}__`;

/** model.js.hbs from model.ts.hbs, given a TS-to-JS transpiler (ts.transpileModule). */
export function deriveJsTemplate(tsTemplate: string, transpile: (source: string) => string): string {
  if (/__vovc_hb_\d+__/.test(tsTemplate)) throw new Error('model.ts.hbs already contains a placeholder identifier');
  const found: string[] = [];
  const source = tsTemplate.replace(MUSTACHE, (m) => placeholder(found.push(m) - 1));
  const js = transpile(source);
  let restored = 0;
  const out = js.replace(/__vovc_hb_(\d+)__/g, (_, i: string) => {
    restored++;
    return found[Number(i)];
  });
  if (restored !== found.length) throw new Error(`transpiling model.ts.hbs kept ${restored} of its ${found.length} template expressions`);
  return out;
}

/** The header line that marks the derived template (and the command that remakes it). */
export const DERIVED_HEADER = '{{! Derived from model.ts.hbs by `npm run templates` (scripts/templates.mjs); do not edit. ~}}\n';
