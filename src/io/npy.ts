// NumPy .npy files (format versions 1.0, 2.0, 3.0), float arrays in C order.
//
// Layout: "\x93NUMPY", major, minor, header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0),
// then a Python dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n', then the raw data. Writers pad so that the data starts
// on a 64-byte boundary.

import { fail } from '../diag/diagnostics.js';
import { decodeFloat, encodeFloat, type Dtype } from './dtype.js';
import { readFileOrFail } from './files.js';

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Readonly<Record<string, Dtype>> = { '<f4': 'float32', '<f8': 'float64', '<f2': 'float16' };

type Literal = string | boolean | null | number[];

/** Parses the header's dict literal: string keys; values are strings, True/False/None or int tuples. */
function parseHeaderDict(text: string, name: string): Map<string, Literal> {
  let i = 0;
  const bad = (what: string): never => fail('E4110', `${name}: malformed .npy header (${what} at character ${i + 1}): ${JSON.stringify(text.trim())}`);
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) bad(`expected '${c}'`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') bad('expected a quoted string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) bad('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): Literal => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    if (text[i] !== '(') bad('expected a value');
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') break;
      const m = /^(\d+)L?/.exec(text.slice(i, i + 24));
      if (!m) bad('expected a dimension');
      dims.push(Number(m![1]));
      i += m![0].length;
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') bad("expected ',' or ')'");
    }
    i++;
    return dims;
  };
  const dict = new Map<string, Literal>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    expect(':');
    dict.set(key, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad("expected ',' or '}'");
  }
  return dict;
}

/** Parses a .npy file held in memory; `name` is used in error messages. */
export function parseNpy(buf: Uint8Array, name = '<npy buffer>'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, k) => buf[k] !== b)) fail('E4110', `${name}: not a .npy file (the magic string \\x93NUMPY is missing)`);
  const major = buf[6];
  if (major < 1 || major > 3) fail('E4110', `${name}: unsupported .npy format version ${major}.${buf[7]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenSize) fail('E4110', `${name}: truncated .npy file (${buf.length} bytes)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenSize + headerLen;
  if (dataStart > buf.length) fail('E4110', `${name}: truncated .npy file: the header claims ${headerLen} bytes but the file has ${buf.length} in all`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(8 + lenSize, dataStart));
  const header = parseHeaderDict(text, name);

  const descr = header.get('descr');
  const fortran = header.get('fortran_order');
  const shape = header.get('shape');
  if (typeof descr !== 'string') fail('E4110', `${name}: .npy header has no 'descr' string`);
  if (typeof fortran !== 'boolean') fail('E4110', `${name}: .npy header has no 'fortran_order' flag`);
  if (!Array.isArray(shape)) fail('E4110', `${name}: .npy header has no 'shape' tuple`);
  const dtype = DESCR[descr];
  if (!dtype) fail('E4111', `${name}: unsupported .npy dtype '${descr}' (expected float32 '<f4', or '<f8' / '<f2' which are converted to float32)`);
  if (fortran) fail('E4111', `${name}: Fortran-order .npy arrays are not supported (save with np.ascontiguousarray first)`);

  const size = dtype === 'float64' ? 8 : dtype === 'float32' ? 4 : 2;
  // Multiply in floating point: a lying header cannot overflow into a small number here.
  const need = shape.reduce((a, d) => a * d, size);
  const have = buf.length - dataStart;
  if (need !== have) {
    const dims = `(${shape.join(', ')})`;
    fail('E4110', need > have
      ? `${name}: truncated .npy file: shape ${dims} of '${descr}' needs ${need} data bytes, but only ${have} are present`
      : `${name}: .npy file has ${have - need} bytes after the data of shape ${dims} '${descr}' (header and size disagree)`);
  }
  return { shape, data: decodeFloat(buf.subarray(dataStart), dtype, true, false) };
}

/** Reads a .npy file (float32, or float64 / float16 converted to float32). */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileOrFail(path), path);
}

/** Serializes a float32 array as .npy format 1.0 ('<f4', C order, header padded to 64 bytes). */
export function writeNpy(array: { readonly shape: readonly number[]; readonly data: Float32Array }): Buffer {
  const { shape, data } = array;
  const numel = shape.reduce((a, d) => a * d, 1);
  if (numel !== data.length) throw new Error(`writeNpy: shape (${shape.join(', ')}) has ${numel} elements but the data has ${data.length}`);
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64.
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10 + dict.length);
  head.set(MAGIC, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  head.write(dict, 10, 'latin1');
  return Buffer.concat([head, encodeFloat(data)]);
}
