// Test-only writer of PyTorch zip checkpoints, byte by byte, the way torch.save lays them out:
// pickle protocol 2 with tensors as _rebuild_tensor_v2 over persistent storage ids, storages
// as uncompressed zip records aligned to 64 bytes. Plain JS so bench/ can use it too.
//
// Values given to pickle():
//   string, boolean, null, integer number, bigint -> str, bool, None, int
//   float(x)                 -> float
//   [a, b]                   -> tuple;   list([..]) -> list
//   dict([[k, v], ...])      -> dict;    odict([[k, v], ...]) -> collections.OrderedDict
//   tensor({...})            -> a tensor (see below);  parameter(tensor) -> nn.Parameter
//   global(module, name)     -> a GLOBAL reference;  call(fn, args) -> REDUCE;  build(obj, state) -> BUILD
//   raw(bytes)               -> the bytes as they are (hand-made opcodes); persid(x) -> BINPERSID

import { crc32 } from 'node:zlib';

const tag = (kind, props) => ({ [Symbol.for('pk')]: kind, ...props });
const kindOf = (v) => (v !== null && typeof v === 'object' ? v[Symbol.for('pk')] : undefined);

const float = (value) => tag('float', { value });
export const list = (items) => tag('list', { items });
export const dict = (entries) => tag('dict', { entries });
export const odict = (entries) => tag('odict', { entries });
export const global = (module, name) => tag('global', { module, name });
export const call = (fn, args) => tag('call', { fn, args });
/** obj with its instance state set (BUILD), as a state_dict() with its _metadata pickles. */
export const build = (obj, state) => tag('build', { obj, state });
export const raw = (bytes) => tag('raw', { bytes });
/** A persistent id (BINPERSID), which torch uses for storages. */
export const persid = (id) => tag('persid', { id });
/**
 * A tensor over storage `key` (torch storage class `storageType`, e.g. 'FloatStorage', `numel`
 * elements), viewed at element `offset` with `shape` and `stride` (default: contiguous).
 */
export const tensor = ({ key, storageType = 'FloatStorage', numel, offset = 0, shape, stride }) => {
  stride ??= shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  numel ??= shape.reduce((a, b) => a * b, 1);
  const storage = persid(['storage', global('torch', storageType), key, 'cpu', numel]);
  return call(global('torch._utils', '_rebuild_tensor_v2'), [storage, offset, shape, stride, false, call(global('collections', 'OrderedDict'), [])]);
};
export const parameter = (t) => call(global('torch._utils', '_rebuild_parameter'), [t, true, call(global('collections', 'OrderedDict'), [])]);

const u8 = (...b) => Buffer.from(b);
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

function emit(v, out) {
  const k = kindOf(v);
  if (v === null) out.push(u8(0x4e));
  else if (v === true) out.push(u8(0x88));
  else if (v === false) out.push(u8(0x89));
  else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf-8');
    out.push(u8(0x58), u32(s.length), s); // BINUNICODE
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    const n = BigInt(v);
    if (n >= 0n && n < 256n) out.push(u8(0x4b, Number(n))); // BININT1
    else if (n >= 0n && n < 65536n) out.push(u8(0x4d, Number(n) & 255, Number(n) >> 8)); // BININT2
    else if (n >= -(2n ** 31n) && n < 2n ** 31n) { const b = Buffer.alloc(4); b.writeInt32LE(Number(n)); out.push(u8(0x4a), b); } // BININT
    else { const b = Buffer.alloc(8); b.writeBigInt64LE(n); out.push(u8(0x8a, 8), b); } // LONG1
  } else if (Array.isArray(v)) {
    if (v.length === 0) out.push(u8(0x29));
    else { out.push(u8(0x28)); v.forEach((x) => emit(x, out)); out.push(u8(0x74)); } // MARK ... TUPLE
  } else if (k === 'float') { const b = Buffer.alloc(8); b.writeDoubleBE(v.value); out.push(u8(0x47), b); }
  else if (k === 'list') { out.push(u8(0x5d)); if (v.items.length) { out.push(u8(0x28)); v.items.forEach((x) => emit(x, out)); out.push(u8(0x65)); } }
  else if (k === 'dict' || k === 'odict') {
    if (k === 'odict') emit(call(global('collections', 'OrderedDict'), []), out);
    else out.push(u8(0x7d)); // EMPTY_DICT
    if (v.entries.length) { out.push(u8(0x28)); for (const [a, b] of v.entries) { emit(a, out); emit(b, out); } out.push(u8(0x75)); } // SETITEMS
  } else if (k === 'global') out.push(u8(0x63), Buffer.from(`${v.module}\n${v.name}\n`, 'latin1'));
  else if (k === 'call') { emit(v.fn, out); emit(v.args, out); out.push(u8(0x52)); } // REDUCE
  else if (k === 'build') { emit(v.obj, out); emit(v.state, out); out.push(u8(0x62)); } // BUILD
  else if (k === 'persid') { emit(v.id, out); out.push(u8(0x51)); }
  else if (k === 'raw') out.push(Buffer.from(v.bytes));
  else throw new Error(`torchwriter: cannot pickle ${String(v)}`);
}

/** Pickle protocol 2 bytes of `value`, ending in STOP. */
export function pickle(value) {
  const out = [u8(0x80, 2)];
  emit(value, out);
  out.push(u8(0x2e));
  return Buffer.concat(out);
}

/** An uncompressed zip of `files` ([name, bytes] pairs), each data start aligned to 64 bytes as torch does. */
export function zip(files) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name, 'utf-8');
    const crc = crc32(data);
    // Pad the local header with an extra field ('FB' id, as torch's writer) so the data is aligned.
    const pad = (64 - ((offset + 30 + nameBytes.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(pad, 2);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0, 6); lh.writeUInt16LE(0, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(data.length, 18); lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBytes.length, 26); lh.writeUInt16LE(extra.length, 28);
    locals.push(lh, nameBytes, extra, data);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(data.length, 20); ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBytes.length, 28); ch.writeUInt32LE(offset, 42);
    central.push(ch, nameBytes);
    offset += 30 + nameBytes.length + extra.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * A torch.save-style .pth: `value` pickled as archive/data.pkl, `storages` ({key: bytes}) as
 * archive/data/<key>, plus version and (when given) byteorder records.
 */
export function pth(value, storages = {}, { archive = 'archive', byteorder } = {}) {
  const files = [[`${archive}/data.pkl`, pickle(value)]];
  if (byteorder) files.push([`${archive}/byteorder`, Buffer.from(byteorder)]);
  for (const [key, bytes] of Object.entries(storages)) files.push([`${archive}/data/${key}`, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  files.push([`${archive}/version`, Buffer.from('3\n')]);
  return zip(files);
}
