// PyTorch zip checkpoints built byte by byte (helpers/torchwriter.mjs), good and bad.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VovcError } from '../../src/diag/diagnostics.js';
import { loadCheckpoint, type Checkpoint } from '../../src/weights/checkpoint.js';
import { build, call, dict, global, list, odict, parameter, persid, pickle, pth, raw, tensor, zip } from './helpers/torchwriter.mjs';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'vovc-pth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function file(bytes: Uint8Array, name = `c${counter++}.pth`): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}
const load = (bytes: Uint8Array): Promise<Checkpoint> => loadCheckpoint(file(bytes));

async function errorOf(bytes: Uint8Array): Promise<{ message: string; path: string }> {
  const path = file(bytes);
  try {
    await loadCheckpoint(path);
  } catch (e) {
    expect(e).toBeInstanceOf(VovcError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith(`${path}: `)).toBe(true);
    return { message: message.slice(path.length + 2), path };
  }
  throw new Error('expected a VovcError');
}

const f32 = (...v: number[]) => new Float32Array(v);
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
const values = (ck: Checkpoint, key: string) => {
  const t = ck.tensors.find((e) => e.key === key)!;
  return Array.from((t.data ?? t.int)! as ArrayLike<number | bigint>);
};

describe('torch zip checkpoints', () => {
  it('reads float16, bfloat16, float64 and integer storages', async () => {
    const half = new Uint16Array([0x3e00, 0xc000, 0x7bff, 0x0001]); // 1.5, -2, 65504, 2^-24
    const bf = new Uint16Array([0x3f80, 0xc060]); // 1, -3.5
    const ck = await load(pth(odict([
      ['h', tensor({ key: '0', storageType: 'HalfStorage', shape: [2, 2] })],
      ['b', tensor({ key: '1', storageType: 'BFloat16Storage', shape: [2] })],
      ['d', tensor({ key: '2', storageType: 'DoubleStorage', shape: [1] })],
      ['n', tensor({ key: '3', storageType: 'LongStorage', shape: [] })],
      ['i', tensor({ key: '4', storageType: 'IntStorage', shape: [2] })],
      ['m', tensor({ key: '5', storageType: 'BoolStorage', shape: [3] })],
    ]), { 0: half, 1: bf, 2: new Float64Array([0.1]), 3: new BigInt64Array([12345678901234n]), 4: new Int32Array([-1, 7]), 5: new Uint8Array([1, 0, 1]) }));
    expect(ck.tensors.map((t) => [t.key, t.dtype])).toEqual([['h', 'float16'], ['b', 'bfloat16'], ['d', 'float64'], ['n', 'int64'], ['i', 'int32'], ['m', 'bool']]);
    expect(values(ck, 'h')).toEqual([1.5, -2, 65504, 2 ** -24]);
    expect(values(ck, 'b')).toEqual([1, -3.5]);
    expect(values(ck, 'd')).toEqual([Math.fround(0.1)]);
    expect(ck.tensors[3]).toMatchObject({ shape: [], data: null });
    expect(values(ck, 'n')).toEqual([12345678901234n]);
    expect(values(ck, 'i')).toEqual([-1, 7]);
    expect(values(ck, 'm')).toEqual([1, 0, 1]);
  });

  it('reads untyped storages (_rebuild_tensor_v3 with a dtype) and parameters with state', async () => {
    const hooks = call(global('collections', 'OrderedDict'), []);
    const untyped = persid(['storage', global('torch', 'UntypedStorage'), '0', 'cpu', 8]);
    const byDtype = persid(['storage', global('torch', 'float32'), '1', 'cpu', 2]);
    const ck = await load(pth(odict([
      ['v3', call(global('torch._utils', '_rebuild_tensor_v3'), [untyped, 1, [3], [1], false, hooks, global('torch', 'float16')])],
      ['p', call(global('torch._utils', '_rebuild_parameter_with_state'), [
        call(global('torch._utils', '_rebuild_tensor_v2'), [byDtype, 0, [2], [1], false, hooks]), true, hooks, dict([['extra', 1]])])],
    ]), { 0: new Uint16Array([0xffff, 0x3c00, 0xbc00, 0x0000]), 1: f32(0.25, 4) }));
    expect(ck.tensors.map((t) => [t.key, t.dtype, t.shape])).toEqual([['v3', 'float16', [3]], ['p', 'float32', [2]]]);
    expect(values(ck, 'v3')).toEqual([1, -1, 0]);
    expect(values(ck, 'p')).toEqual([0.25, 4]);
  });

  it('gathers non-contiguous views and shares storages between tensors', async () => {
    const ck = await load(pth(odict([
      // w.t() of a [2, 3] tensor: shape [3, 2], stride [1, 3]
      ['transposed', tensor({ key: '0', numel: 16, shape: [3, 2], stride: [1, 3] })],
      // x[:, 1::2] of a [2, 4] tensor stored at offset 8 of the same storage
      ['sliced', tensor({ key: '0', numel: 16, offset: 9, shape: [2, 2], stride: [4, 2] })],
      // a [2, 3, 2] tensor permuted (2, 0, 1): shape [2, 2, 3], stride [1, 6, 2]
      ['permuted', tensor({ key: '1', shape: [2, 2, 3], stride: [1, 6, 2] })],
      // two tensors over one storage at different offsets
      ['first', tensor({ key: '0', numel: 16, offset: 0, shape: [6] })],
      ['second', tensor({ key: '0', numel: 16, offset: 6, shape: [2, 5] })],
      ['half_t', tensor({ key: '2', storageType: 'HalfStorage', shape: [2, 2], stride: [1, 2] })],
      ['empty', tensor({ key: '0', numel: 16, offset: 3, shape: [0, 4] })],
    ]), { 0: iota(16), 1: iota(12), 2: new Uint16Array([0x3c00, 0x4000, 0x4200, 0x4400]) /* 1 2 3 4 */ }));
    expect(values(ck, 'transposed')).toEqual([0, 3, 1, 4, 2, 5]);
    expect(values(ck, 'sliced')).toEqual([9, 11, 13, 15]);
    expect(values(ck, 'permuted')).toEqual([0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);
    expect(values(ck, 'first')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values(ck, 'second')).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(values(ck, 'half_t')).toEqual([1, 3, 2, 4]);
    expect(ck.tensors.find((t) => t.key === 'empty')).toMatchObject({ shape: [0, 4], data: new Float32Array(0) });
  });

  it('reads big-endian archives', async () => {
    const be = (bytes: Uint8Array, size: number) => {
      const out = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
      return out;
    };
    const w = f32(1.5, -2, 3e-8);
    const n = new BigInt64Array([-3n]);
    const ck = await load(pth(odict([
      ['w', tensor({ key: '0', shape: [3] })],
      ['wt', tensor({ key: '0', shape: [1, 2], stride: [1, 2] })],
      ['n', tensor({ key: '1', storageType: 'LongStorage', shape: [1] })],
    ]), { 0: be(new Uint8Array(w.buffer), 4), 1: be(new Uint8Array(n.buffer), 8) }, { byteorder: 'big' }));
    expect(values(ck, 'w')).toEqual(Array.from(w));
    expect(values(ck, 'wt')).toEqual([1.5, 3e-8].map(Math.fround));
    expect(values(ck, 'n')).toEqual([-3n]);
    expect(ck.metadata).toMatchObject({ byteorder: 'big', version: '3' });
  });

  describe('wrappers', () => {
    const sd = (k = 'conv.weight') => odict([[k, parameter(tensor({ key: '0', shape: [2] }))], ['bn.num_batches_tracked', tensor({ key: '1', storageType: 'LongStorage', shape: [] })]]);
    const storages = { 0: f32(1, 2), 1: new BigInt64Array([5n]) };
    const optimizer = dict([
      ['state', dict([[0, dict([['step', tensor({ key: '1', storageType: 'LongStorage', shape: [] })], ['exp_avg', tensor({ key: '0', shape: [2] })], ['exp_avg_sq', tensor({ key: '0', shape: [2] })]])]])],
      ['param_groups', list([dict([['lr', 0], ['params', list([0])]])])],
    ]);
    const cases: [string, unknown, string[]][] = [
      ['a bare state dict', sd(), []],
      ["{'state_dict': sd}", dict([['state_dict', sd()]]), ['state_dict']],
      ['a training checkpoint', dict([['epoch', 90], ['arch', 'vovnet39'], ['optimizer', optimizer], ['state_dict', sd()]]), ['state_dict']],
      ["{'model': {'module': sd}}", dict([['model', dict([['module', sd()]])]]), ['model', 'module']],
      ['state_dict before state_dict_ema', dict([['state_dict_ema', sd('ema.w')], ['state_dict', sd()]]), ['state_dict']],
      ['model_ema before ema', dict([['ema', sd('ema.w')], ['model_ema', sd()], ['optimizer', optimizer]]), ['model_ema']],
      ["{'module': sd}", dict([['module', sd()]]), ['module']],
      ['a state_dict() with its _metadata attribute', build(sd(), dict([['_metadata', odict([['', dict([['version', 1]])], ['conv', dict([['version', 1]])]])]])), []],
      ['a state dict with a non-tensor entry', odict([['conv.weight', tensor({ key: '0', shape: [2] })], ['bn.num_batches_tracked', tensor({ key: '1', storageType: 'LongStorage', shape: [] })], ['version', 2]]), []],
    ];
    for (const [what, obj, path] of cases) {
      it(`finds the state dict in ${what}`, async () => {
        const ck = await load(pth(obj, storages));
        expect(ck.wrapperPath).toEqual(path);
        expect(ck.tensors.map((t) => t.key)).toEqual(['conv.weight', 'bn.num_batches_tracked']);
        expect(values(ck, 'conv.weight')).toEqual([1, 2]);
      });
    }

    it('does not take an optimizer for the model', async () => {
      const { message } = await errorOf(pth(dict([['epoch', 3], ['optimizer', optimizer]]), storages));
      expect(message).toBe("no dict of tensors found: expected a state dict, or one under 'state_dict', 'model', 'state_dict_ema', 'model_ema', 'ema', 'module'; the top-level keys are epoch, optimizer");
    });

    it('stops on self-referencing wrappers', async () => {
      // d = {}; d['model'] = d
      const cyclic = raw(Buffer.from([0x7d, 0x71, 0, 0x8c, 5, ...Buffer.from('model'), 0x68, 0, 0x73]));
      expect((await errorOf(pth(cyclic))).message).toMatch(/^no dict of tensors found/);
      expect((await errorOf(pth(list([1, 2])))).message).toBe('the checkpoint holds list/tuple, not a dict of tensors');
    });
  });

  describe('refuses code', () => {
    const cases: [string, unknown, string][] = [
      ['os.system', call(global('os', 'system'), ['echo pwned']), 'os.system'],
      ['posix.system', call(global('posix', 'system'), ['echo pwned']), 'posix.system'],
      ['builtins.eval', dict([['state_dict', call(global('builtins', 'eval'), ["__import__('os').system('echo pwned')"])]]), 'builtins.eval'],
      ['an unknown class', dict([['args', call(global('argparse', 'Namespace'), [])], ['state_dict', odict([])]]), 'argparse.Namespace'],
      ['a pickled nn.Module', call(global('torchvision.models.resnet', 'ResNet'), []), 'torchvision.models.resnet.ResNet'],
      // STACK_GLOBAL, as protocol 4 spells it
      ['builtins.exec via STACK_GLOBAL', raw(Buffer.from([0x8c, 8, ...Buffer.from('builtins'), 0x8c, 4, ...Buffer.from('exec'), 0x93, 0x8c, 1, 0x31, 0x85, 0x52])), 'builtins.exec'],
    ];
    for (const [what, obj, qualname] of cases) {
      it(what, async () => {
        const { message } = await errorOf(pth(obj));
        expect(message).toBe(`refusing to load: the pickle calls global '${qualname}' (only tensors and dicts are allowed)`);
      });
    }
  });

  describe('malformed files', () => {
    const good = pth(odict([['w', tensor({ key: '0', shape: [4] })]]), { 0: f32(1, 2, 3, 4) });

    it('loads the unbroken file', async () => expect(values(await load(good), 'w')).toEqual([1, 2, 3, 4]));

    const cases: [string, () => Uint8Array, RegExp][] = [
      ['a truncated zip', () => good.subarray(0, good.length - 40), /^not a readable zip archive \(.*\); the file may be truncated$/],
      ['a zip cut in half', () => good.subarray(0, good.length >> 1), /^not a readable zip archive/],
      ['a zip without data.pkl', () => zip([['a/other.txt', Buffer.from('x')]]), /^not a PyTorch checkpoint: expected one '<folder>\/data\.pkl' in the zip, found 0 \(entries: a\/other\.txt\)$/],
      ['a TorchScript archive', () => zip([['m/data.pkl', pickle(null)], ['m/code/__torch__.py', Buffer.from('')], ['m/constants.pkl', pickle([])]]), /^this is a TorchScript archive/],
      ['a storage record that is missing', () => pth(odict([['w', tensor({ key: '7', shape: [4] })]]), { 0: f32(1, 2, 3, 4) }), /storage '7' has no record archive\/data\/7/],
      ['a storage that claims more elements than its record', () => pth(odict([['w', tensor({ key: '0', numel: 1000, shape: [4] })]]), { 0: f32(1, 2, 3, 4) }), /^storage '0' declares 1000 float32 elements \(4000 bytes\) but its record has 16 bytes$/],
      ['a view past its storage', () => pth(odict([['w', tensor({ key: '0', numel: 4, offset: 2, shape: [2, 2] })]]), { 0: f32(1, 2, 3, 4) }), /^tensor 'w' \(offset 2, shape \[2, 2\], stride \[2, 1\]\) reaches element 5 of storage '0', which has 4 float32 elements$/],
      ['an expanded view (stride 0)', () => pth(odict([['w', tensor({ key: '0', numel: 1, shape: [1000000, 1000000], stride: [0, 0] })]]), { 0: f32(1) }), /^tensor 'w' .* has more elements than its storage '0' \(1\)/],
      ['a strange persistent id', () => pth(odict([['w', call(global('torch._utils', '_rebuild_tensor_v2'), [raw(Buffer.from([0x8c, 1, 0x78, 0x51])), 0, [1], [1], false, null])]])), /^malformed checkpoint pickle: unexpected persistent id \(str\)$/],
      ['a tensor over no storage', () => pth(odict([['w', call(global('torch._utils', '_rebuild_tensor_v2'), [null, 0, [1], [1], false, null])]])), /_rebuild_tensor_v2 called with unexpected arguments \(None, number, list\/tuple, list\/tuple\)/],
      ['a tensor with a bad shape', () => pth(odict([['w', tensor({ key: '0', numel: 4, shape: [-1] as number[], stride: [1] })]]), { 0: f32(1, 2, 3, 4) }), /_rebuild_tensor_v2 called with unexpected arguments/],
      ['a compressed entry', () => { const z = Buffer.from(good); z.writeUInt16LE(8, 8); z.writeUInt16LE(8, z.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) + 10); return z; }, /zip entry 'archive\/data\.pkl' is compressed \(method 8\)/],
      ['a legacy (pre-1.6) checkpoint', () => Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]), /^legacy PyTorch checkpoint/],
      ['random bytes', () => Buffer.from('hello, world'), /^not a checkpoint: expected a \.safetensors file or a PyTorch zip \(\.pth\), but the file starts with bytes 68 65 6c 6c 6f 2c 20 77$/],
      ['an empty file', () => new Uint8Array(0), /\(empty file\)$/],
    ];
    for (const [what, make, re] of cases) it(`reports ${what}`, async () => expect((await errorOf(make())).message).toMatch(re));

    it('never fails other than with a VovcError on damaged real checkpoints', async () => {
      const real = readFileSync(join(FIXTURES, 'tiny-dw-ese-all-backbone', 'weights.pth'));
      // Cuts at many lengths and single corrupted bytes in the pickle (seeded, reproducible).
      let seed = 12345;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
      const damaged: Uint8Array[] = [];
      for (let i = 1; i <= 16; i++) damaged.push(real.subarray(0, Math.floor((real.length * i) / 17)));
      const pklStart = real.indexOf(Buffer.from('data.pkl')) + 8;
      for (let i = 0; i < 24; i++) {
        const copy = Buffer.from(real);
        copy[pklStart + 40 + rand(20000)] = rand(256);
        damaged.push(copy);
      }
      let failed = 0;
      for (const bytes of damaged) {
        try {
          await loadCheckpoint(file(bytes, 'damaged.pth'));
        } catch (e) {
          expect(e).toBeInstanceOf(VovcError);
          failed++;
        }
      }
      expect(failed).toBeGreaterThanOrEqual(16); // every truncation at least
    });
  });
});
