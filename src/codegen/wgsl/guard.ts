// Refuses, before any shader is rendered, a plan whose buffers WebGPU cannot bind. The
// artifact binds every storage buffer whole and assumes the spec's default limits (limits.ts),
// so the input, each output and the arena must each fit one storage binding. Within that
// size every element index and byte offset fits the shaders' u32 arithmetic, which is why the
// WGSL backend never needs the plan's needs64bit.

import { fail } from '../../diag/diagnostics.js';
import { DTYPE_BYTES, type KernelPlan } from '../../plan/types.js';
import { MAX_BUFFER_BYTES, MAX_STORAGE_BINDING_BYTES } from './limits.js';

interface Sized {
  /** The IR value (tensor) or buffer name shown to the user. */
  readonly name: string;
  readonly shape: readonly number[] | undefined;
  readonly bytes: number;
  /** Which WebGPU buffer holds it. */
  readonly where: string;
}

const LIMITS = `maxStorageBufferBindingSize, ${MAX_STORAGE_BINDING_BYTES} bytes by default; maxBufferSize is ${MAX_BUFFER_BYTES}`;

/** Throws E5305 naming the largest tensor over one binding, or E5108 when only the arena as a whole is over it. */
export function checkBufferLimits(plan: KernelPlan): void {
  const shapeOf = new Map<string, readonly number[]>();
  for (const l of plan.launches) for (const v of [...l.inputs, l.output]) if (!v.slice && !shapeOf.has(v.value)) shapeOf.set(v.value, v.shape);
  // Bytes as stored: the plan's dtype and element counts (padded planes included).
  const eb = DTYPE_BYTES[plan.input.dtype];
  const held = (kind: string, name: string) => plan.buffers.find((b) => b.kind === kind && b.name === name)?.elements ?? 0;
  const tensors: Sized[] = [
    { name: plan.input.value, shape: plan.input.shape, bytes: held('input', 'input') * eb, where: 'the input buffer' },
    ...plan.outputs.map((o) => ({ name: o.value, shape: o.shape, bytes: held('output', o.name) * eb, where: `output buffer '${o.name}'` })),
    ...plan.arena.map((b) => ({ name: b.value, shape: shapeOf.get(b.value), bytes: b.elements * eb, where: 'the arena' })),
  ];
  const over = tensors.filter((t) => t.bytes > MAX_STORAGE_BINDING_BYTES).sort((a, b) => b.bytes - a.bytes);
  const hint = 'the artifact binds each buffer whole; build for a smaller batch or input size';
  if (over.length) {
    const t = over[0];
    const shape = t.shape ? ` [${t.shape.join(', ')}]` : '';
    const others = over.length > 1 ? [`${over.length - 1} more tensor${over.length > 2 ? 's' : ''} exceed it: ${over.slice(1, 6).map((o) => `'${o.name}'`).join(', ')}${over.length > 6 ? ', ...' : ''}`] : [];
    fail('E5305', `wgsl: tensor '${t.name}'${shape} in ${t.where} needs ${t.bytes} bytes, more than one WebGPU storage binding holds (${LIMITS})`, { notes: [...others, hint] });
  }
  if (plan.arenaBytes > MAX_STORAGE_BINDING_BYTES) {
    const largest = plan.arena.reduce((a, b) => (b.elements > a.elements ? b : a));
    fail('E5108', `wgsl: the arena needs ${plan.arenaBytes} bytes for the tensors live at once, more than one WebGPU storage binding holds (${LIMITS})`, {
      notes: [`its largest tensor is '${largest.value}' (${largest.elements * eb} bytes)`, hint],
    });
  }
}
