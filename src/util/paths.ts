// The package root (the folder holding package.json, models/, templates/, data/), found by
// walking up from this module: works from src/ (vitest) and from dist/src/ (the shipped CLI).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('internal: cannot find the vovc package root');
    dir = up;
  }
}
