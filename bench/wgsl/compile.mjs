// The WGSL artifact of a bound graph from a built vovc checkout at `root` (its dist/), as
// `vovc build --target wgsl` makes it: through the driver's Pipeline to the verified plan, then
// the backend. A checkout from before the driver existed compiled the graph itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = (root, p) => import(pathToFileURL(join(root, 'dist/src', p)).href);

/** (graph) => { plan, blob, rendered } for the checkout at `root`. */
export async function wgslCompiler(root) {
  const { compileWgsl } = await dist(root, 'codegen/wgsl/index.js');
  if (!existsSync(join(root, 'dist/src/driver/pipeline.js'))) return (g) => compileWgsl(g);
  const { Pipeline } = await dist(root, 'driver/pipeline.js');
  const { VERSION } = await dist(root, 'version.js');
  return (g) => {
    const p = new Pipeline(g, { passes: { log: () => {} } });
    const plan = p.plan();
    const params = p.optimized().graph.params;
    return { plan, ...compileWgsl(plan, (name) => params.get(name)?.data, VERSION) };
  };
}
