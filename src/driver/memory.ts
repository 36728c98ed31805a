// The memory budget of a run: what its tensors, arena and weights need, checked before any of
// it is allocated, against `--max-memory` / VOVC_MAX_MEMORY (default: the memory the machine has
// available now). A shape too large for the machine is refused with the numbers instead of
// ending in an allocation failure or the kernel's OOM killer.

import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { fail } from '../diag/diagnostics.js';
import { countParams, numel, type Graph } from '../ir/graph.js';
import { buildPlan } from '../plan/build.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A size such as 8G, 512M, 1.5g or a byte count; undefined when malformed. */
function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) return undefined;
  const v = Number(m[1]) * UNITS[m[2].toLowerCase()];
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined;
}

/** MemAvailable of /proc/meminfo (what Linux can give without swapping), else os.freemem(). */
function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/** The budget in bytes and where it came from. */
function memoryBudget(flag?: string): { bytes: number; source: string } {
  const given = flag ?? process.env.VOVC_MAX_MEMORY;
  if (given !== undefined) {
    const bytes = parseSize(given);
    const what = flag !== undefined ? '--max-memory' : 'VOVC_MAX_MEMORY';
    if (bytes === undefined) fail('E8007', `${what} must be a size such as 8G, 512M or a byte count, got '${given}'`, { subject: what });
    return { bytes: bytes!, source: `${what}=${given}` };
  }
  return { bytes: availableMemory(), source: 'the memory available now' };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1)} GiB`;

/**
 * What running `g` (shapes; BN not yet folded) needs at least, in bytes: the weights, the input
 * and outputs, and the activations alive at once (the arena of the op-by-op plan, which the
 * interpreter's liveness follows; the fused plan's is smaller), all as float32.
 */
export function runNeeds(g: Graph): { label: string; bytes: number }[] {
  const plan = buildPlan(g, { reuse: true });
  const io = numel(g.input.shape) + g.outputs.reduce((s, o) => s + numel(g.nodes.find((n) => n.id === o.value)?.shape ?? g.input.shape), 0);
  return [
    { label: 'activations alive at once', bytes: plan.arenaBytes },
    { label: 'weights', bytes: 4 * countParams(g) },
    { label: 'input and outputs', bytes: 4 * io },
  ];
}

/** Refuses (E8007) a run whose needs pass the budget, naming each part. */
export function checkBudget(what: string, needs: readonly { label: string; bytes: number }[], flag?: string, subject?: string): void {
  const budget = memoryBudget(flag);
  const total = needs.reduce((s, n) => s + n.bytes, 0);
  if (total <= budget.bytes) return;
  fail('E8007', `${what} needs at least ${gib(total)} (${needs.map((n) => `${n.label} ${gib(n.bytes)}`).join(', ')}), more than the memory budget of ${gib(budget.bytes)} (${budget.source})`, {
    subject: subject ?? what,
    notes: ['run at a smaller --input-shape or batch, or raise the budget with --max-memory SIZE (or VOVC_MAX_MEMORY) if the machine really has the memory'],
  });
}
