// The compiled vovc API (dist/, built by `npm run build`, or a copy of it) as the oracle uses it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadApi(repo, distDir = join(repo, 'dist')) {
  const dist = join(distDir, 'src');
  if (!existsSync(dist)) throw new Error(`${dist} not found: run 'npm run build' first`);
  const load = (p) => import(pathToFileURL(join(dist, p)).href);
  const [zoo, lower, verify, diag, checkpoint, mapping] = await Promise.all([
    load('dsl/zoo.js'),
    load('model/lower.js'),
    load('ir/verify.js'),
    load('diag/diagnostics.js'),
    load('weights/checkpoint.js'),
    load('weights/mapping.js'),
  ]);
  return {
    loadModel: zoo.loadModel,
    zooNames: zoo.zooNames,
    lowerSpec: lower.lowerSpec,
    verify: verify.verify,
    VovcError: diag.VovcError,
    formatDiagnostic: diag.formatDiagnostic,
    formatDiagnostics: diag.formatDiagnostics,
    loadCheckpoint: checkpoint.loadCheckpoint,
    findNonFinite: checkpoint.findNonFinite,
    bindCheckpoint: mapping.bindCheckpoint,
  };
}
