import { describe, expect, it } from 'vitest';
import { PyDict, PyGlobal, unpickle, type UnpickleHooks } from '../../src/weights/unpickler.js';
import { errorOf } from './helpers/errors.js';

// Written by CPython 3.11: pickle.dumps(v, protocol=p) for
// v = {'a': [1, -2, 3.5, True, False, None, 'é', b'xy', (1,), (1, 2), (1, 2, 3), 2**70, -2**40, -1, 300, 70000],
//      'b': {1, 2}, 'c': frozenset([3]), 'd': collections.OrderedDict([('x', 1)])}
const PY = {
  p4: '8004959d000000000000007d94288c0161945d94284b014afeffffff47400c00000000000088894e8c02c3a99443027879944b0185944b014b0286944b014b024b0387948a090000000000000000408a060000000000ff4affffffff4d2c014a70110100658c0162948f94284b014b02908c016394284b0391948c0164948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0178944b0173752e',
  p5: '8005959d000000000000007d94288c0161945d94284b014afeffffff47400c00000000000088894e8c02c3a99443027879944b0185944b014b0286944b014b024b0387948a090000000000000000408a060000000000ff4affffffff4d2c014a70110100658c0162948f94284b014b02908c016394284b0391948c0164948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0178944b0173752e',
  // protocol 2 spells bytes as _codecs.encode(...) and sets as __builtin__.set(...)
  p2: '80027d71002858010000006171015d7102284b014afeffffff47400c00000000000088894e5802000000c3a97103635f636f646563730a656e636f64650a710458020000007879710558060000006c6174696e3171068671075271084b018571094b014b0286710a4b014b024b0387710b8a090000000000000000408a060000000000ff4affffffff4d2c014a7011010065580100000062710c635f5f6275696c74696e5f5f0a7365740a710d5d710e284b014b026585710f5271105801000000637111635f5f6275696c74696e5f5f0a66726f7a656e7365740a71125d71134b0361857114527115580100000064711663636f6c6c656374696f6e730a4f726465726564446963740a71172952711858010000007871194b0173752e',
};

const hooks: UnpickleHooks = {
  resolve: (m, n) => (m === 'collections' && n === 'OrderedDict' ? new PyGlobal('collections.OrderedDict', () => new PyDict()) : undefined),
  persistentLoad: (pid) => ({ pid }),
};
const run = (bytes: Uint8Array | string) => unpickle(typeof bytes === 'string' ? Buffer.from(bytes, 'hex') : bytes, 'p.pkl', hooks);


describe('restricted unpickler', () => {
  for (const p of ['p4', 'p5'] as const) {
    it(`decodes CPython's protocol ${p[1]} pickle (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, sets, LONG1)`, () => {
      const v = run(PY[p]) as PyDict;
      expect(v).toBeInstanceOf(PyDict);
      expect([...v.map.keys()]).toEqual(['a', 'b', 'c', 'd']);
      expect(v.map.get('a')).toEqual([1, -2, 3.5, true, false, null, 'é', new Uint8Array([0x78, 0x79]), [1], [1, 2], [1, 2, 3], 2n ** 70n, -(2 ** 40), -1, 300, 70000]);
      expect(v.map.get('b')).toEqual(new Set([1, 2]));
      expect(v.map.get('c')).toEqual(new Set([3]));
      expect([...(v.map.get('d') as PyDict).map]).toEqual([['x', 1]]);
    });
  }

  it('refuses any global it was not given, naming it', () => {
    expect(errorOf(() => run(PY.p2))).toBe("p.pkl: refusing to load: the pickle calls global '_codecs.encode' (only tensors and dicts are allowed)");
    // INST and STACK_GLOBAL resolve through the same gate as GLOBAL.
    expect(errorOf(() => run(Buffer.from('(ios\nsystem\n.', 'latin1')))).toContain("global 'os.system'");
    const stackGlobal = Buffer.concat([Buffer.from([0x80, 4, 0x8c, 8]), Buffer.from('builtins'), Buffer.from([0x8c, 4]), Buffer.from('eval'), Buffer.from([0x93, 0x2e])]);
    expect(errorOf(() => run(stackGlobal))).toContain("global 'builtins.eval'");
    expect(errorOf(() => run(Buffer.from([0x80, 2, 0x82, 1, 0x2e])))).toContain('copyreg extension registry');
  });

  it('calls only what resolve returned, and only callables', () => {
    const od = Buffer.from('ccollections\nOrderedDict\n)R.', 'latin1');
    expect(run(od)).toBeInstanceOf(PyDict);
    // REDUCE on a str, on an int.
    expect(errorOf(() => run(Buffer.from([0x80, 2, 0x8c, 1, 0x78, 0x29, 0x52, 0x2e])))).toMatch(/calls str, which is not callable/);
    expect(errorOf(() => run(Buffer.from([0x4b, 1, 0x29, 0x52, 0x2e])))).toMatch(/calls number, which is not callable/);
  });

  it('rejects malformed pickles with the byte offset, never hanging or over-allocating', () => {
    const cases: [number[], RegExp][] = [
      [[0x80, 2, 0x7d], /ends without STOP/],
      [[0x58, 0xff, 0xff, 0xff, 0xff, 0x61], /needs 4294967295 more bytes but the pickle ends at byte 6 \(opcode at byte 0\)/],
      [[0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x2e], /length 4611686018427387904 exceeds the pickle size/],
      [[0x8b, 0, 0, 0, 0x10, 0x2e], /an integer of 268435456 bytes is too large/],
      [[0x6a, 7, 0, 0, 0, 0x2e], /memo entry 7 is not defined/],
      [[0x61, 0x2e], /stack underflow/],
      [[0x4b, 1, 0x28, 0x2e], /stack underflow \(opcode at byte 3\)/],
      [[0x4b, 0, 0x4b, 1, 0x4b, 2, 0x73, 0x2e], /SETITEM\(S\) on number/],
      [[0x7d, 0x28, 0x4b, 1, 0x75, 0x2e], /odd number of items/],
      [[0x49, 0x61, 0x62, 0x63, 0x0a, 0x2e], /an integer line 'abc'/],
      [[0x50, 0x31, 0x0a, 0x2e], /protocol-0 persistent id \(PERSID\)/],
      [[0x4b, 1, 0x70, 0x78, 0x0a, 0x2e], /PUT with index 'x'/],
      [[0x80, 6, 0x2e], /protocol 6 is newer than 5/],
      [[0x63, 0x6f, 0x73], /unterminated text line/],
      [[], /ends without STOP/],
    ];
    for (const [bytes, re] of cases) expect(errorOf(() => run(new Uint8Array(bytes)))).toMatch(re);
  });

  it('reads the text opcodes of protocols 0 and 1 (INT with I01/I00, LONG, FLOAT, STRING, UNICODE, PUT, GET)', () => {
    const text = (s: string) => [...Buffer.from(s, 'latin1')];
    // [True, False, 42, -7L, 2.5, 'a\'b', u'\u00e9', <memo 0>], built with MARK ... LIST
    const bytes = [0x28, ...text('I01\nI00\nI42\nL-7L\nF2.5\n'), ...text("S'a\\'b'\n"), ...text('V\\u00e9\n'), ...text('p0\ng0\n'), 0x6c, 0x2e];
    expect(run(new Uint8Array(bytes))).toEqual([true, false, 42, -7, 2.5, "a'b", '\u00e9', '\u00e9']);
  });

  it('handles deep nesting and self-reference without recursion', () => {
    const depth = 200_000;
    const deep = new Uint8Array(2 * depth);
    deep.fill(0x5d, 0, depth); // EMPTY_LIST x depth
    deep.fill(0x61, depth, 2 * depth - 1); // APPEND: each list into the one below it
    deep[2 * depth - 1] = 0x2e;
    let v = run(deep) as unknown[];
    let n = 1;
    while (v.length) [v, n] = [v[0] as unknown[], n + 1];
    expect(n).toBe(depth);
    // d = {}; d['self'] = d
    const cyclic = Buffer.from([0x7d, 0x71, 0, 0x8c, 4, ...Buffer.from('self'), 0x68, 0, 0x73, 0x2e]);
    const d = run(cyclic) as PyDict;
    expect(d.map.get('self')).toBe(d);
  });
});
