import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy, readNpy, writeNpy } from '../../src/io/npy.js';
import { errorOf } from '../weights/helpers/errors.js';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'vovc-npy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Files written by numpy 2.4 (np.save), as hex.
const NUMPY = {
  // [[1.5, -2], [65504, 2**-24]] as '<f2'
  f2: '934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a003e00c0ff7b0100',
  // [0.1, -3.25, 1e40] as '<f8'
  f8: '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a9a9999999999b93f0000000000000ac0a55cc3f129633d48',
  // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3))
  fortran: '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000000040400000803f00008040000000400000a040',
  // np.arange(3, dtype='<i4')
  i4: '934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000100000002000000',
  // np.arange(3, dtype='>f4')
  f4be: '934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000003f80000040000000',
};
const hex = (h: string) => Buffer.from(h, 'hex');


describe('.npy', () => {
  it('reads every fixture array with the shape case.json gives', () => {
    const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'generator');
    expect(cases.length).toBe(5);
    for (const c of cases) {
      const spec = JSON.parse(readFileSync(join(FIXTURES, c.name, 'case.json'), 'utf-8'));
      const input = readNpy(join(FIXTURES, c.name, spec.input));
      expect(input.shape).toEqual(spec.input_shape);
      expect(input.data.length).toBe(spec.input_shape.reduce((a: number, b: number) => a * b, 1));
      for (const [name, file] of Object.entries(spec.outputs as Record<string, string>)) {
        expect(readNpy(join(FIXTURES, c.name, file)).shape).toEqual(spec.output_shapes[name]);
      }
    }
  });

  it('writes exactly the bytes numpy writes (header padded to 64 bytes)', () => {
    const file = join(FIXTURES, 'tiny-v1-residual', 'input.npy');
    const original = readFileSync(file);
    const again = writeNpy(readNpy(file));
    expect(again.equals(original)).toBe(true);
    for (const shape of [[5], [], [0, 3], [2, 3, 4]]) {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i - 0.5);
      const buf = writeNpy({ shape, data });
      expect((10 + buf.readUInt16LE(8)) % 64).toBe(0);
      const back = parseNpy(buf);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
    expect(writeNpy({ shape: [5], data: new Float32Array(5) }).subarray(10, 70).toString('latin1')).toContain("'shape': (5,), }");
  });

  it('converts float16 exactly and float64 by rounding', () => {
    const h = parseNpy(hex(NUMPY.f2), 'h.npy');
    expect(h.shape).toEqual([2, 2]);
    expect(Array.from(h.data)).toEqual([1.5, -2, 65504, 2 ** -24]);
    const d = parseNpy(hex(NUMPY.f8), 'd.npy');
    expect(Array.from(d.data)).toEqual([Math.fround(0.1), -3.25, Infinity]);
  });

  it('refuses Fortran order and other dtypes, naming file and dtype', () => {
    expect(errorOf(() => parseNpy(hex(NUMPY.fortran), 'f.npy'))).toMatch(/^f\.npy: Fortran-order/);
    expect(errorOf(() => parseNpy(hex(NUMPY.i4), 'i.npy'))).toMatch(/^i\.npy: unsupported \.npy dtype '<i4'/);
    expect(errorOf(() => parseNpy(hex(NUMPY.f4be), 'b.npy'))).toContain("'>f4'");
  });

  it('reports truncated files, lying headers and non-npy input in one line', () => {
    const good = writeNpy({ shape: [2, 3], data: new Float32Array(6) });
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, good.length - 4), /truncated \.npy file: shape \(2, 3\) of '<f4' needs 24 data bytes, but only 20/],
      [good.subarray(0, 40), /truncated \.npy file: the header claims/],
      [good.subarray(0, 9), /not a \.npy file/],
      [Buffer.concat([good, Buffer.alloc(8)]), /8 bytes after the data/],
      [Buffer.from('PK\x03\x04 hello world'), /not a \.npy file/],
    ];
    // A header that lies about the shape: (2, 3) -> (9, 3), same length.
    const lying = Buffer.from(good);
    lying.write('(9, 3)', lying.indexOf('(2, 3)'), 'latin1');
    cases.push([lying, /needs 108 data bytes, but only 24/]);
    // A header whose dict literal is broken.
    const broken = Buffer.from(good);
    broken.write('[', broken.indexOf('('), 'latin1');
    cases.push([broken, /malformed \.npy header/]);
    for (const [buf, re] of cases) {
      const message = errorOf(() => parseNpy(buf, 'x.npy'));
      expect(message).toMatch(re);
      expect(message.startsWith('x.npy: ')).toBe(true);
    }
  });

  it('names the file it cannot read', () => {
    const missing = join(tmp, 'missing.npy');
    expect(errorOf(() => readNpy(missing))).toBe(`${missing}: cannot read: no such file`);
    const file = join(tmp, 'ok.npy');
    writeFileSync(file, writeNpy({ shape: [1], data: new Float32Array([7]) }));
    expect(Array.from(readNpy(file).data)).toEqual([7]);
  });
});
