// WebGPU in Node through the `webgpu` package (Google's Dawn). Two uses:
//   - a real adapter to run models: Dawn's default backend choice, then its OpenGL backend in
//     compatibility mode (on a machine without a GPU that is Mesa's llvmpipe through EGL; with
//     no display, EGL_PLATFORM=surfaceless is set for it unless the user set EGL_PLATFORM);
//   - Dawn's 'null' backend, which compiles and validates WGSL without any driver, for tests.

import { createRequire } from 'node:module';
import { fail } from '../../diag/diagnostics.js';

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

// Minimal structural types of the WebGPU objects used here (no @webgpu/types dependency).
export interface GPU { requestAdapter(opts?: Record<string, unknown>): Promise<GPUAdapter | null> }
export interface GPUAdapter {
  readonly limits: Record<string, number>;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  readonly features?: { has(feature: string): boolean };
  requestDevice(desc?: { requiredLimits?: Record<string, number>; requiredFeatures?: string[] }): Promise<GPUDevice>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GPUDevice = any;

let dawn: DawnModule | undefined;
// One Dawn instance per flag set for the whole process: instances of different backends in one
// process (null next to OpenGL) crash Dawn's GL loader, and each instance costs startup time.
const instances = new Map<string, GPU>();

function loadDawn(): DawnModule {
  if (dawn) return dawn;
  try {
    dawn = createRequire(import.meta.url)('webgpu') as DawnModule;
  } catch (e) {
    fail('E5201', `wgsl: cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}`, undefined, 3);
  }
  // Dawn's node binding expects the WebGPU constructor globals (GPUBufferUsage, ...) to exist.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return dawn;
}

/** The limits a vovc module needs beyond the defaults, raised only as far as the adapter allows. */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const want: Record<string, number> = { maxStorageBuffersPerShaderStage: 8, maxStorageBufferBindingSize: 128 * 1024 * 1024, maxBufferSize: 256 * 1024 * 1024 };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(want)) if (typeof adapter.limits[k] === 'number') out[k] = Math.min(v, adapter.limits[k]);
  return out;
}

export interface NodeGpu { device: GPUDevice; description: string }

/**
 * A device on the best adapter Dawn finds, or on Dawn's null backend (`validateOnly`).
 * Throws VovcError(exit 3) when there is none.
 */
export async function nodeDevice(validateOnly = false): Promise<NodeGpu> {
  const { create } = loadDawn();
  // Compatibility mode lowers the limits (e.g. 4 storage buffers per stage on some GL drivers),
  // so every device requests what the module needs explicitly.
  const attempts: [string[], Record<string, unknown>][] = validateOnly
    ? [[['backend=null'], { featureLevel: 'compatibility' }]]
    : [
        [[], {}],
        [['backend=opengl'], { featureLevel: 'compatibility' }],
      ];
  const tried: string[] = [];
  for (const [flags, opts] of attempts) {
    let adapter: GPUAdapter | null = null;
    // Without a display (a server, CI, a container), Mesa's EGL needs the surfaceless platform;
    // set it unless the user chose one (EGL reads it when Dawn's GL backend opens a display).
    if (flags.includes('backend=opengl') && !process.env.EGL_PLATFORM && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) process.env.EGL_PLATFORM = 'surfaceless';
    try {
      const key = flags.join(' ');
      if (!instances.has(key)) instances.set(key, create(flags));
      adapter = await instances.get(key)!.requestAdapter(opts);
    } catch (e) {
      tried.push(`${flags.join(' ') || 'default'}: ${(e as Error).message}`);
      continue;
    }
    if (!adapter) {
      tried.push(`${flags.join(' ') || 'default'}: no adapter`);
      continue;
    }
    const limits = wantedLimits(adapter);
    if ((limits.maxStorageBuffersPerShaderStage ?? 0) < 8) {
      tried.push(`${flags.join(' ') || 'default'}: only ${limits.maxStorageBuffersPerShaderStage} storage buffers per stage (need 8)`);
      continue;
    }
    // shader-f16 where the adapter has it (the fp16 artifact's f16 shader variants use it; the
    // null backend has it, so they are validated there).
    const features = adapter.features?.has('shader-f16') ? ['shader-f16'] : [];
    const device = await adapter.requestDevice({ requiredLimits: limits, requiredFeatures: features });
    const i = adapter.info ?? {};
    const description = [flags.join(' ') || 'default', i.vendor, i.architecture, i.device, i.description, ...features].filter(Boolean).join(' / ');
    return { device, description };
  }
  fail('E5202', `wgsl: no usable WebGPU adapter in Node (${tried.join('; ')}); on a machine without a GPU install Mesa (libegl1 libegl-mesa0 libgl1-mesa-dri)${process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? ' and set EGL_PLATFORM=surfaceless' : ''}`, undefined, 3);
}

/**
 * A Dawn message without Dawn's own source locations (`at ValidateX (../../src/dawn/native/
 * Foo.cpp:123)`), which say nothing to a user and change with every Dawn build; one line.
 */
export function dawnMessage(message: string): string {
  return message
    .split('\n')
    .map((l) => l.replace(/\s*\bat \S+ \([^()]*\.(?:cc|cpp|c|h|hpp|mm):\d+\)/g, '').replace(/\s*\([^()]*\/(?:dawn|tint)\/[^()]*:\d+\)/g, '').trim())
    .filter((l) => l && !/^at .*:\d+\)?$/.test(l))
    .join('; ')
    .replace(/\s*;\s*-\s*/g, '; ');
}

/** Compiles every shader on `device` and creates its pipeline; returns readable errors. */
export async function validateShaders(device: GPUDevice, shaders: readonly { file: string; code: string }[]): Promise<string[]> {
  const errors: string[] = [];
  for (const s of shaders) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: s.file, code: s.code });
    const info = await module.getCompilationInfo();
    for (const m of info.messages as { type: string; lineNum: number; linePos: number; message: string }[]) {
      if (m.type === 'error') errors.push(`${s.file}:${m.lineNum}:${m.linePos}: ${dawnMessage(m.message)}`);
    }
    device.createComputePipeline({ label: s.file, layout: 'auto', compute: { module, entryPoint: 'main' } });
    const err = await device.popErrorScope();
    if (err && !errors.some((e) => e.startsWith(`${s.file}:`))) errors.push(`${s.file}: ${dawnMessage(err.message)}`);
  }
  return errors;
}
