// Mutations of checkpoint files (.safetensors and torch-zip .pth), as fast-check arbitraries.
//
// Blind byte flips mostly land in tensor data, so most mutations here know the formats:
//   safetensors  the u64 header length, bytes of the JSON header, the header rebuilt with a
//                changed dtype / shape / data_offsets / key / __metadata__, tensors re-encoded
//                in another dtype, data bytes (NaN/Inf), truncation, trailing bytes;
//   torch zip    pickle opcodes replaced, their arguments (ints, lengths, memo indices)
//                changed, opcodes deleted / duplicated / swapped / inserted, GLOBAL names
//                swapped (other storage types, os.system), strings changed; zip fields of the
//                central directory, local headers and end record; records truncated, dropped,
//                renamed or added (byteorder, TorchScript's constants.pkl); truncation.
// A mutation that changes lengths re-writes the zip (stored entries, 64-byte aligned like
// torch.save), so that it reaches the unpickler instead of failing at the zip layer.
//
// Plain JS without imports from vovc (shared by the vitest tests and the fuzz driver).
import fc from 'fast-check';
import { crc32 } from 'node:zlib';

const INTERESTING_U32 = [0, 1, 2, 7, 8, 63, 64, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const pickU32 = (a, b, old) => (a % 3 === 0 ? (old + (b % 17) - 8) >>> 0 : INTERESTING_U32[b % INTERESTING_U32.length]);

// ---- zip -----------------------------------------------------------------------------------------

/** Central directory entries of a zip, or undefined when the structure cannot be found. */
export function readZip(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const entries = [];
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) return undefined;
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const size = dv.getUint32(p + 20, true);
    const local = dv.getUint32(p + 42, true);
    if (local + 30 > buf.length || dv.getUint32(local, true) !== 0x04034b50) return undefined;
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > buf.length) return undefined;
    entries.push({ name: Buffer.from(buf.subarray(p + 46, p + 46 + nameLen)).toString('latin1'), cd: p, local, start, data: buf.subarray(start, start + size) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { eocd, entries };
}

/** A zip of stored entries, each data start aligned to 64 bytes (as torch.save does). */
export function writeZip(entries) {
  const out = [];
  const central = [];
  let pos = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'latin1');
    const pad = (64 - ((pos + 30 + name.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // 'FB', torch's padding field
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(e.data);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(e.data.length, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(extra.length, 28);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(pos, 42);
    central.push(c, name);
    out.push(h, name, extra, e.data);
    pos += 30 + name.length + extra.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(pos, 16);
  return Buffer.concat([...out, cd, end]);
}

// Offsets of the fields worth corrupting: central entry, local header, end record.
const CD_FIELDS = [[4, 2], [6, 2], [8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [34, 2], [42, 4]];
const LOCAL_FIELDS = [[4, 2], [6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]];
const EOCD_FIELDS = [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];

// ---- pickle --------------------------------------------------------------------------------------

// Argument layout of each opcode the unpickler knows: a byte count, or how the length is read.
const ARGS = new Map([
  [0x80, 1], [0x95, 8], [0x2e, 0], [0x28, 0], [0x30, 0], [0x31, 0], [0x32, 0], [0x4e, 0], [0x88, 0], [0x89, 0],
  [0x4a, 4], [0x4b, 1], [0x4d, 2], [0x8a, 'u8'], [0x8b, 'u32'], [0x47, 8], [0x58, 'u32'], [0x8c, 'u8'], [0x8d, 'u64'],
  [0x54, 'u32'], [0x55, 'u8'], [0x42, 'u32'], [0x43, 'u8'], [0x8e, 'u64'], [0x96, 'u64'],
  [0x5d, 0], [0x29, 0], [0x7d, 0], [0x8f, 0], [0x6c, 0], [0x74, 0], [0x91, 0], [0x85, 0], [0x86, 0], [0x87, 0], [0x64, 0],
  [0x61, 0], [0x65, 0], [0x73, 0], [0x75, 0], [0x90, 0], [0x68, 1], [0x6a, 4], [0x71, 1], [0x72, 4], [0x94, 0],
  [0x63, 'lines'], [0x93, 0], [0x69, 'lines'], [0x6f, 0], [0x52, 0], [0x81, 0], [0x92, 0], [0x62, 0], [0x51, 0],
]);
// Opcodes to write over others: every known one, text-protocol and buffer opcodes it refuses, junk.
const OPCODES = [...ARGS.keys(), 0x49, 0x4c, 0x50, 0x53, 0x56, 0x46, 0x82, 0x83, 0x84, 0x97, 0x98, 0x00, 0xff];
const GLOBALS = [
  'torch\nFloatStorage', 'torch\nHalfStorage', 'torch\nLongStorage', 'torch\nBoolStorage', 'torch\nBFloat16Storage', 'torch\nDoubleStorage', 'torch\nUntypedStorage', 'torch\nByteStorage',
  'torch._utils\n_rebuild_tensor_v2', 'torch._utils\n_rebuild_tensor_v3', 'torch._utils\n_rebuild_parameter', 'collections\nOrderedDict', 'torch\nfloat16', 'torch\nint64',
  'os\nsystem', 'builtins\neval', '__builtin__\nset', 'torch\n', '\n',
];

/** Opcodes of a pickle (position, opcode, total length), up to STOP or the first unknown opcode. */
export function scanPickle(p) {
  const ops = [];
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let i = 0;
  while (i < p.length) {
    const op = p[i];
    const a = ARGS.get(op);
    if (a === undefined) break;
    let len = 1;
    if (typeof a === 'number') len += a;
    else if (a === 'u8') len += 1 + (p[i + 1] ?? 0);
    else if (a === 'u32') len += 4 + (i + 5 <= p.length ? dv.getUint32(i + 1, true) : 0);
    else if (a === 'u64') len += 8 + (i + 9 <= p.length ? Number(dv.getBigUint64(i + 1, true) & 0xffffffffn) : 0);
    else {
      const e1 = p.indexOf(0x0a, i + 1);
      const e2 = e1 < 0 ? -1 : p.indexOf(0x0a, e1 + 1);
      if (e2 < 0) break;
      len = e2 + 1 - i;
    }
    if (i + len > p.length) break;
    ops.push({ pos: i, op, len });
    i += len;
    if (op === 0x2e) break;
  }
  return ops;
}

function mutatePickle(p, m) {
  const ops = scanPickle(p);
  if (!ops.length) return Buffer.concat([p, Buffer.from([OPCODES[m.b % OPCODES.length]])]);
  const o = ops[m.a % ops.length];
  const q = Buffer.from(p);
  switch (m.op % 8) {
    case 0: // another opcode in its place
      q[o.pos] = OPCODES[m.b % OPCODES.length];
      return q;
    case 1: { // its argument: an int, a memo index, a length
      if (o.len === 1) {
        q[o.pos] = OPCODES[m.b % OPCODES.length];
        return q;
      }
      const at = o.pos + 1;
      const width = Math.min(o.len - 1, ARGS.get(o.op) === 'u64' ? 8 : ARGS.get(o.op) === 'u8' ? 1 : 4);
      if (width >= 4) q.writeUInt32LE(pickU32(m.b, m.c, q.readUInt32LE(at)), at);
      else if (width === 2) q.writeUInt16LE(pickU32(m.b, m.c, q.readUInt16LE(at)) & 0xffff, at);
      else q[at] = pickU32(m.b, m.c, q[at]) & 0xff;
      return q;
    }
    case 2: // delete an opcode
      return Buffer.concat([p.subarray(0, o.pos), p.subarray(o.pos + o.len)]);
    case 3: // duplicate one
      return Buffer.concat([p.subarray(0, o.pos + o.len), p.subarray(o.pos, o.pos + o.len), p.subarray(o.pos + o.len)]);
    case 4: { // swap two
      const o2 = ops[m.b % ops.length];
      const [x, y] = o.pos < o2.pos ? [o, o2] : [o2, o];
      if (x === y) return q;
      return Buffer.concat([p.subarray(0, x.pos), p.subarray(y.pos, y.pos + y.len), p.subarray(x.pos + x.len, y.pos), p.subarray(x.pos, x.pos + x.len), p.subarray(y.pos + y.len)]);
    }
    case 5: { // a GLOBAL names something else
      const globals = ops.filter((x) => x.op === 0x63);
      if (!globals.length) return q;
      const g = globals[m.b % globals.length];
      return Buffer.concat([p.subarray(0, g.pos + 1), Buffer.from(GLOBALS[m.c % GLOBALS.length] + '\n', 'latin1'), p.subarray(g.pos + g.len)]);
    }
    case 6: { // a string (a key, a storage key, a location) changes
      const strs = ops.filter((x) => x.op === 0x58 || x.op === 0x8c);
      if (!strs.length) return q;
      const s = strs[m.b % strs.length];
      const head = s.op === 0x58 ? 5 : 2;
      const old = p.subarray(s.pos + head, s.pos + s.len).toString('latin1');
      const variants = [old.slice(0, -1), old + 'x', old.replace(/\d/, '9'), '', 'state_dict', 'model', '0', '999', old.replace('weight', 'bias'), `${old}\n\r`, '\u00ff\u00fe'];
      const v = Buffer.from(variants[m.c % variants.length], m.c % variants.length === 10 ? 'latin1' : 'utf-8');
      const hdr = s.op === 0x58 ? Buffer.from([0x58, 0, 0, 0, 0]) : Buffer.from([0x8c, 0]);
      if (s.op === 0x58) hdr.writeUInt32LE(v.length, 1);
      else hdr[1] = v.length & 0xff;
      return Buffer.concat([p.subarray(0, s.pos), hdr, v, p.subarray(s.pos + s.len)]);
    }
    default: // truncate
      return p.subarray(0, o.pos + (m.c % o.len));
  }
}

// ---- safetensors ---------------------------------------------------------------------------------

const DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const ODD_DTYPES = ['F8_E4M3', 'U16', 'C64', 'f32', '', 5, null];
const ODD_NUMBERS = [0, -1, 1, 2, 3, 1.5, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, 1e300, '4', null];

function readSafetensors(buf) {
  if (buf.length < 8) return undefined;
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) return undefined;
  try {
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf-8'));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    return { header, data: buf.subarray(8 + n) };
  } catch {
    return undefined;
  }
}

function writeSafetensorsRaw(header, data) {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json, 'utf-8'), data]);
}

function mutateSafetensors(buf, m) {
  const st = readSafetensors(buf);
  const op = m.op % 9;
  if (op === 0 || !st) { // the header length
    const q = Buffer.from(buf);
    if (q.length < 8) return Buffer.concat([q, Buffer.alloc(8 - q.length)]);
    const old = q.readBigUInt64LE(0);
    const values = [0n, 1n, 2n, BigInt(q.length - 8), BigInt(q.length - 7), old + 1n, old - 1n, old + 8n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n];
    q.writeBigUInt64LE(BigInt.asUintN(64, values[m.b % values.length]), 0);
    return q;
  }
  const hlen = buf.length - 8 - st.data.length;
  const keys = Object.keys(st.header).filter((k) => k !== '__metadata__');
  const key = keys[m.a % Math.max(1, keys.length)];
  const t = key === undefined ? undefined : st.header[key];
  switch (op) {
    case 1: { // bytes of the JSON text
      const q = Buffer.from(buf);
      const i = 8 + (m.a % Math.max(1, hlen));
      if (i < q.length) q[i] = m.c % 3 === 0 ? q[i] ^ (1 << (m.b % 8)) : [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x2d, 0x00, 0xff, 0x5c][m.b % 12];
      return q;
    }
    case 2: // dtype
      if (t) t.dtype = m.c % 4 === 0 ? ODD_DTYPES[m.b % ODD_DTYPES.length] : Object.keys(DTYPES)[m.b % 10];
      return writeSafetensorsRaw(st.header, st.data);
    case 3: // shape
      if (t && Array.isArray(t.shape)) {
        const v = ODD_NUMBERS[m.c % ODD_NUMBERS.length];
        const i = m.b % (t.shape.length + 1);
        if (m.c % 5 === 0) t.shape.splice(i, 1);
        else if (m.c % 5 === 1) t.shape.splice(i, 0, v);
        else if (m.c % 5 === 2) t.shape = [...t.shape].reverse();
        else if (m.c % 5 === 3) t.shape = v;
        else t.shape[i] = v;
      }
      return writeSafetensorsRaw(st.header, st.data);
    case 4: // data_offsets
      if (t && Array.isArray(t.data_offsets)) {
        const [b, e] = t.data_offsets;
        const v = ODD_NUMBERS[m.c % ODD_NUMBERS.length];
        const choices = [[e, b], [b + 1, e + 1], [b, e + 4], [b - 4, e], [v, e], [b, v], [b], [b, e, e], v, [0, e - b]];
        t.data_offsets = choices[m.b % choices.length];
      }
      return writeSafetensorsRaw(st.header, st.data);
    case 5: { // keys: drop one, rename one, copy one (overlapping data), metadata
      const h = st.header;
      const c = m.b % 6;
      if (c === 0 && key) delete h[key];
      else if (c === 1 && key) {
        const renamed = [key.replace(/\.\d+\./, '.9.'), key + '_', `module.${key}`, key.replace('weight', 'bias'), '', '__metadata__x', 'a'.repeat(300), `${key}\n`][m.c % 8];
        const v = h[key];
        delete h[key];
        h[renamed] = v;
      } else if (c === 2 && t) h[`${key}.copy`] = { ...t };
      else if (c === 3) h.__metadata__ = [{ a: 1 }, ['x'], 'text', null, { format: 7 }, {}][m.c % 6];
      else if (c === 4 && key) h[key] = [null, 1, 'x', [], { dtype: 'F32' }][m.c % 5];
      else return writeSafetensorsRaw([null, '[]', '"x"', '1', '{', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'][m.c % 6], st.data);
      return writeSafetensorsRaw(h, st.data);
    }
    case 6: { // a tensor re-encoded in another dtype, offsets recomputed (a deep, consistent change)
      if (!t || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return buf;
      const slots = keys.map((k) => st.header[k]).filter((x) => x && Array.isArray(x.data_offsets)).sort((x, y) => x.data_offsets[0] - y.data_offsets[0]);
      const tags = Object.keys(DTYPES);
      const to = tags[m.b % tags.length];
      const numel = t.shape.reduce((a, d) => a * d, 1);
      if (numel > 1 << 22) return buf;
      const blobs = [];
      let off = 0;
      for (const s of slots) {
        let bytes = st.data.subarray(s.data_offsets[0], s.data_offsets[1]);
        if (s === t) {
          bytes = Buffer.alloc(numel * DTYPES[to]);
          for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + m.c) & 0xff;
          s.dtype = to;
        }
        s.data_offsets = [off, off + bytes.length];
        off += bytes.length;
        blobs.push(bytes);
      }
      return writeSafetensorsRaw(st.header, Buffer.concat(blobs));
    }
    case 7: { // data bytes: NaN and Inf patterns, random bytes
      const q = Buffer.from(buf);
      const at = 8 + hlen + ((m.a * 4) % Math.max(4, st.data.length));
      const pats = [[0, 0, 0xc0, 0x7f], [0, 0, 0x80, 0x7f], [0, 0, 0x80, 0xff], [m.c & 0xff, 0, 0, 0]];
      const pat = pats[m.b % pats.length];
      for (let i = 0; i < 4 && at + i < q.length; i++) q[at + i] = pat[i];
      return q;
    }
    default: // trailing bytes
      return Buffer.concat([buf, Buffer.alloc(1 + (m.b % 16), m.c & 0xff)]);
  }
}

// ---- torch zip -------------------------------------------------------------------------------

function mutateTorchZip(buf, m) {
  const z = readZip(buf);
  if (!z) return genericBytes(buf, m);
  const op = m.op % 6;
  const pkl = z.entries.find((e) => e.name.endsWith('/data.pkl'));
  if (op <= 2 && pkl) { // the pickle: in place when the length stays, else a new zip
    const p = mutatePickle(Buffer.from(pkl.data), { ...m, op: m.b + m.op });
    if (p.length === pkl.data.length) {
      const q = Buffer.from(buf);
      p.copy(q, pkl.start);
      return q;
    }
    return writeZip(z.entries.map((e) => (e === pkl ? { name: e.name, data: p } : e)));
  }
  if (op === 3) { // a field of the central directory, a local header or the end record
    const q = Buffer.from(buf);
    const e = z.entries[m.a % z.entries.length];
    const [base, fields] = [[e.cd, CD_FIELDS], [e.local, LOCAL_FIELDS], [z.eocd, EOCD_FIELDS]][m.b % 3];
    const [off, width] = fields[m.c % fields.length];
    const at = base + off;
    if (width === 4) q.writeUInt32LE(pickU32(m.b >> 2, m.c >> 4, q.readUInt32LE(at)), at);
    else q.writeUInt16LE(pickU32(m.b >> 2, m.c >> 4, q.readUInt16LE(at)) & 0xffff, at);
    return q;
  }
  if (op === 4) { // records: truncated, dropped, renamed, added
    const entries = z.entries.map((e) => ({ name: e.name, data: e.data }));
    const prefix = pkl ? pkl.name.slice(0, -'data.pkl'.length) : 'archive/';
    const i = m.a % entries.length;
    switch (m.b % 7) {
      case 0: entries[i].data = entries[i].data.subarray(0, m.c % (entries[i].data.length + 1)); break;
      case 1: entries.splice(i, 1); break;
      case 2: entries[i].name = [`${entries[i].name}x`, `../${entries[i].name}`, `/${entries[i].name}`, entries[i].name.replace(/\/.*\//, '/'), 'data.pkl', `other/${entries[i].name}`][m.c % 6]; break;
      case 3: entries.push({ name: `${prefix}byteorder`, data: Buffer.from(['big', 'little', 'middle', '', '\u00ff', 'big\nendian'][m.c % 6], 'latin1') }); break;
      case 4: entries.push({ name: `${prefix}constants.pkl`, data: Buffer.from([0x80, 2, 0x29, 0x2e]) }); break;
      case 5: entries.push({ name: `other/data.pkl`, data: pkl ? pkl.data : Buffer.alloc(0) }); break;
      default: entries.push({ name: entries[i].name, data: entries[i].data }); break;
    }
    return writeZip(entries);
  }
  return genericBytes(buf, m);
}

// ---- any file ------------------------------------------------------------------------------------

function genericBytes(buf, m) {
  const n = buf.length;
  switch (m.op % 4) {
    case 0: { // flip bits anywhere
      const q = Buffer.from(buf);
      if (n) q[m.a % n] ^= 1 << (m.b % 8);
      return q;
    }
    case 1: // truncate (biased towards the start, where the structure is)
      return buf.subarray(0, m.b % 2 ? m.a % (n + 1) : m.a % Math.min(n + 1, 4096));
    case 2: // cut the end (where a zip's directory is)
      return buf.subarray(0, Math.max(0, n - 1 - (m.a % Math.min(n + 1, 512))));
    default: { // a run of one byte value
      const q = Buffer.from(buf);
      const at = m.a % Math.max(1, n);
      q.fill(m.c & 0xff, at, Math.min(n, at + 1 + (m.b % 64)));
      return q;
    }
  }
}

export const weightMutation = fc.record({ kind: fc.integer({ min: 0, max: 9 }), op: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** Applies mutations in order; format-aware ones where the file still parses as its format. */
export function mutateWeights(buf, muts) {
  let b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const m of muts) {
    if (m.kind < 2) b = genericBytes(b, m);
    else if (b[0] === 0x50 && b[1] === 0x4b) b = mutateTorchZip(b, m);
    else b = mutateSafetensors(b, m);
  }
  return b;
}

/** A mutation list: which fixture file (an index, taken modulo the caller's list) and what to do. */
export const weightsCase = fc.record({ file: fc.nat(), muts: fc.array(weightMutation, { minLength: 1, maxLength: 3 }) });

// ---- checkpoints built from scratch: sizes and counts past any real file -------------------------
//
// Each file is at most a few MB, but scales what a loader iterates over: views of one storage
// (amplification: hundreds of transposed copies of a 4 MB buffer ask for gigabytes when
// decoded), memo entries, stack values and list items up to and past the unpickler's caps
// (2^22 each, src/weights/unpickler.ts), dict items, nesting depth, tensors and zip records by
// the thousand, keys of thousands of characters, shapes near 2^31 whose products pass 2^50.
// The state dicts carry the keys of a fixture model (tiny-timm-a) so that binding is reached.

const CAP = 1 << 22;

/** Bytes of a pickle, built opcode by opcode (protocol 2, LONG_BINPUT / LONG_BINGET memo). */
class Pickle {
  constructor() {
    this.parts = [Buffer.from([0x80, 2])];
    this.memo = 0;
  }
  raw(b) {
    this.parts.push(typeof b === 'number' ? Buffer.from([b]) : Buffer.isBuffer(b) ? b : Buffer.from(b));
    return this;
  }
  /** `n` copies of one opcode sequence, as one buffer. */
  repeat(bytes, n) {
    const one = Buffer.from(bytes);
    const b = Buffer.alloc(one.length * n);
    if (one.length === 1) b.fill(one[0]);
    else for (let i = 0; i < n; i++) one.copy(b, i * one.length);
    return this.raw(b);
  }
  int(v) {
    if (Number.isInteger(v) && v >= 0 && v < 256) return this.raw([0x4b, v]);
    if (Number.isInteger(v) && v >= 0 && v < 65536) return this.raw(Buffer.from([0x4d, v & 0xff, v >> 8]));
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a;
      b.writeInt32LE(v, 1);
      return this.raw(b);
    }
    // LONG1: little-endian two's complement
    let x = BigInt(v);
    const bytes = [];
    do {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    } while (!(x === 0n && !(bytes[bytes.length - 1] & 0x80)) && !(x === -1n && bytes[bytes.length - 1] & 0x80));
    return this.raw(Buffer.from([0x8a, bytes.length, ...bytes]));
  }
  str(s) {
    const b = Buffer.from(s, 'utf-8');
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    return this.raw(h).raw(b);
  }
  global(module, name) {
    return this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  put() {
    const b = Buffer.alloc(5);
    b[0] = 0x72;
    b.writeUInt32LE(this.memo, 1);
    this.raw(b);
    return this.memo++;
  }
  get(i) {
    const b = Buffer.alloc(5);
    b[0] = 0x6a;
    b.writeUInt32LE(i, 1);
    return this.raw(b);
  }
  mark() {
    return this.raw(0x28);
  }
  tuple(xs) {
    this.mark();
    for (const x of xs) this.int(x);
    return this.raw(0x74);
  }
  bytes() {
    return Buffer.concat([...this.parts, Buffer.from([0x2e])]);
  }
}

/**
 * Writes tensors into pickle `p` as torch.save does: _rebuild_tensor_v2(storage, offset, size,
 * stride, False, OrderedDict()), each storage loaded once (BINPERSID) and memoized. `views`:
 * [{ key, storage, offset, shape, stride, dtype? }]; `storages`: key -> numel (float32).
 */
function pickleStateDict(p, views, storages, storageTypes = {}) {
  const od = p.global('collections', 'OrderedDict').put();
  p.raw(0x30); // POP: the globals live on in the memo only
  const rebuild = p.global('torch._utils', '_rebuild_tensor_v2').put();
  p.raw(0x30);
  p.get(od).raw(0x29).raw(0x52); // OrderedDict()
  p.put();
  const loaded = new Map();
  p.mark();
  for (const v of views) {
    p.str(v.key);
    p.get(rebuild);
    p.mark();
    if (loaded.has(v.storage)) p.get(loaded.get(v.storage));
    else {
      p.mark().str('storage').global('torch', storageTypes[v.storage] ?? 'FloatStorage').str(v.storage).str('cpu').int(storages.get(v.storage)).raw(0x74).raw(0x51);
      loaded.set(v.storage, p.put());
    }
    p.int(v.offset).tuple(v.shape).tuple(v.stride).raw(0x89);
    p.get(od).raw(0x29).raw(0x52);
    p.raw(0x74).raw(0x52);
  }
  p.raw(0x75); // SETITEMS
  return p;
}

/** A torch zip of a pickle and its storages (every storage float32, filled with a pattern). */
function torchZip(pickle, storages, { folder = 'archive', fill = 0 } = {}) {
  const entries = [{ name: `${folder}/data.pkl`, data: pickle }, { name: `${folder}/byteorder`, data: Buffer.from('little') }];
  for (const [key, numel] of storages) {
    const data = Buffer.alloc(numel * 4);
    const f = new Float32Array(data.buffer, data.byteOffset, numel);
    for (let i = 0; i < numel; i++) f[i] = fill ? fill : ((i * 2654435761) % 1000) / 1000 - 0.5;
    entries.push({ name: `${folder}/data/${key}`, data });
  }
  entries.push({ name: `${folder}/version`, data: Buffer.from('3\n') });
  return writeZip(entries);
}

/** Keys and shapes of a safetensors file (a fixture), in file order. */
export function safetensorsKeys(buf) {
  const st = readSafetensors(buf);
  if (!st) return [];
  return Object.entries(st.header).filter(([k]) => k !== '__metadata__').map(([k, t]) => ({ key: k, shape: t.shape, dtype: t.dtype }));
}

const numel = (shape) => shape.reduce((a, d) => a * d, 1);
const reversedStride = (shape) => {
  // A transposed (column-major) view of a row-major buffer: what .t() or permute() save.
  const s = new Array(shape.length);
  for (let d = 0, acc = 1; d < shape.length; acc *= shape[d], d++) s[d] = acc;
  return s;
};
const rowMajor = (shape) => {
  const s = new Array(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; acc *= shape[d], d--) s[d] = acc;
  return s;
};

/** xorshift32 for the builders' choices (the arbitrary's fields seed it). */
function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
  return { next, below: (n) => next() % n, pick: (xs) => xs[next() % xs.length] };
}

const HUGE_DIMS = [2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 26, 2 ** 40, 2 ** 50, 2 ** 52];
const HUGE_DIMS_ST = [...HUGE_DIMS, 2 ** 53, 2 ** 53 + 2];

/** What a scaling checkpoint holds: one of the kinds below with its sizes. */
export const scaledWeightsCase = fc.oneof(
  // amplification: the model's keys and hundreds more, all views of one storage
  fc.record({ kind: fc.constant('views'), log2: fc.integer({ min: 14, max: 20 }), views: fc.integer({ min: 50, max: 800 }), layout: fc.nat(4), wrap: fc.nat(3), huge: fc.nat(3), seed: fc.nat() }),
  // MEMOIZE / LONG_BINPUT up to and past the memo cap
  fc.record({ kind: fc.constant('memo'), n: fc.constantFrom(1 << 16, 1 << 20, CAP - 1, CAP, CAP + 1, CAP + (1 << 18)), op: fc.nat(2) }),
  // values pushed (NONE, DUP, EMPTY_TUPLE) up to and past the stack cap, then APPENDS or POP_MARK
  fc.record({ kind: fc.constant('stack'), n: fc.constantFrom(1 << 16, 1 << 20, CAP - 8, CAP + 1, CAP + 1000), op: fc.nat(2), end: fc.nat(2) }),
  // a list grown by batches of APPENDS, or by single APPENDs, up to and past the item cap
  fc.record({ kind: fc.constant('list'), batch: fc.constantFrom(1 << 10, 1 << 18, 1 << 21), total: fc.constantFrom(1 << 18, CAP, CAP + 1, CAP + (1 << 20)), single: fc.boolean() }),
  // a dict of hundreds of thousands of distinct int keys (SETITEMS), or a set (ADDITEMS)
  fc.record({ kind: fc.constant('dict'), n: fc.constantFrom(1 << 12, 1 << 16, 1 << 19, 700_000), set: fc.boolean(), batch: fc.constantFrom(1 << 10, 1 << 16, 1 << 20) }),
  // nesting: lists, tuples, dicts ('model' wrappers), sets of frozensets, as the root or a value
  fc.record({ kind: fc.constant('nested'), depth: fc.constantFrom(3, 5, 100, 10_000, 100_000, 1_000_000), shape: fc.nat(3), root: fc.boolean() }),
  // thousands of tensors under long keys: torch zip (one storage, or a record each) or safetensors
  fc.record({ kind: fc.constant('many'), n: fc.integer({ min: 1000, max: 20000 }), keyLen: fc.constantFrom(50, 300, 1000, 5000), format: fc.nat(2), zero: fc.boolean(), near: fc.boolean(), seed: fc.nat() }),
  // a safetensors header nested thousands deep, or with huge shapes and offsets
  fc.record({ kind: fc.constant('st-header'), depth: fc.constantFrom(100, 10_000, 1_000_000), huge: fc.nat(4), seed: fc.nat() }),
);

/** Builds the file of a scaling case; `model` is [{ key, shape }] of the fixture it binds to. */
export function buildScaledWeights(c, model) {
  const r = rng(c.seed ?? c.n ?? c.depth ?? 1);
  switch (c.kind) {
    case 'views': {
      const size = 1 << c.log2;
      const maxNumel = Math.max(...model.map((t) => numel(t.shape)));
      const storageN = Math.max(size, maxNumel);
      const views = [];
      const viewOf = (key, shape) => {
        const n = numel(shape);
        const layout = c.layout === 4 ? r.below(4) : c.layout;
        const stride = layout === 1 && shape.length > 1 ? reversedStride(shape) : layout === 2 ? shape.map(() => 0) : rowMajor(shape);
        const span = stride.reduce((a, s, d) => a + s * (shape[d] - 1), 0) + 1;
        return { key, storage: '0', offset: layout === 3 ? r.below(Math.max(1, storageN - Math.max(span, n) + 1)) : 0, shape, stride: n > storageN ? rowMajor(shape) : stride };
      };
      for (const t of model) views.push(viewOf(t.key, t.shape));
      // the extra views: the whole storage transposed (a [size/64, 64] matrix), or huge shapes
      for (let i = 0; i < c.views; i++) {
        if (c.huge === 0 && i % 10 === 0) {
          const shape = [r.pick(HUGE_DIMS), r.pick(HUGE_DIMS)];
          views.push({ key: `extra.${i}.huge`, storage: '0', offset: r.below(4), shape, stride: r.below(2) ? [0, 0] : [1, 0] });
        } else views.push({ key: `extra.${i}.weight`, storage: '0', offset: 0, shape: [storageN / 64, 64], stride: [1, storageN / 64] });
      }
      const p = new Pickle();
      if (c.wrap === 1) p.raw(0x7d).str('state_dict');
      if (c.wrap === 2) p.raw(0x7d).str('model').raw(0x7d).str('module');
      pickleStateDict(p, views, new Map([['0', storageN]]));
      if (c.wrap === 1) p.raw(0x73);
      if (c.wrap === 2) p.raw(0x73).raw(0x73);
      return torchZip(p.bytes(), new Map([['0', storageN]]));
    }
    case 'memo': {
      // The state dict, then its dict memoized n times (MEMOIZE, LONG_BINPUT of spread indices, BINPUT of one)
      const p = pickleStateDict(new Pickle(), model.map((t) => ({ key: t.key, storage: '0', offset: 0, shape: t.shape, stride: rowMajor(t.shape) })), new Map([['0', Math.max(...model.map((t) => numel(t.shape)))]]));
      if (c.op === 0) p.repeat([0x94], c.n);
      else if (c.op === 1) {
        const n = Math.min(c.n, 1 << 20); // 5 bytes each: at most 5 MB
        const b = Buffer.alloc(5 * n);
        for (let i = 0; i < n; i++) {
          b[5 * i] = 0x72;
          b.writeUInt32LE((Math.imul(i, 2654435761) >>> 0) % 0xffffffff, 5 * i + 1);
        }
        p.raw(b);
      } else p.repeat([0x71, 7], Math.min(c.n, 2_000_000));
      return torchZip(p.bytes(), new Map([['0', Math.max(...model.map((t) => numel(t.shape)))]]));
    }
    case 'stack': {
      const p = new Pickle();
      p.raw(0x7d).mark();
      if (c.op === 0) p.repeat([0x4e], c.n);
      else if (c.op === 1) p.raw(0x4e).repeat([0x32], c.n - 1);
      else p.repeat([0x29], c.n);
      // end: drop them (POP_MARK), make them a list (LIST), or leave them (STOP with a full stack)
      if (c.end === 0) p.raw(0x31);
      else if (c.end === 1) p.raw(0x6c).raw(0x30);
      return torchZip(p.bytes(), new Map());
    }
    case 'list': {
      const p = new Pickle();
      p.raw(0x5d);
      if (c.single) p.repeat([0x4e, 0x61], Math.min(c.total, 2_500_000));
      else for (let done = 0; done < c.total; done += c.batch) p.mark().repeat([0x4e], Math.min(c.batch, c.total - done)).raw(0x65);
      return torchZip(p.bytes(), new Map());
    }
    case 'dict': {
      const p = new Pickle();
      p.raw(c.set ? 0x8f : 0x7d);
      const per = c.set ? 5 : 6;
      for (let done = 0; done < c.n; done += c.batch) {
        const k = Math.min(c.batch, c.n - done);
        const b = Buffer.alloc(1 + per * k + 1);
        b[0] = 0x28;
        for (let i = 0; i < k; i++) {
          b[1 + per * i] = 0x4a;
          b.writeInt32LE(done + i, 2 + per * i);
          if (!c.set) b[6 + per * i] = 0x4e;
        }
        b[b.length - 1] = c.set ? 0x90 : 0x75;
        p.raw(b);
      }
      return torchZip(p.bytes(), new Map());
    }
    case 'nested': {
      const p = new Pickle();
      const sd = () => pickleStateDict(p, model.map((t) => ({ key: t.key, storage: '0', offset: 0, shape: t.shape, stride: rowMajor(t.shape) })), storages);
      const storages = new Map([['0', Math.max(...model.map((t) => numel(t.shape)))]]);
      const d = c.depth;
      if (c.shape === 0) { // [[[[...]]]]: EMPTY_LIST d times, APPEND d-1 times
        if (!c.root) p.raw(0x7d);
        p.repeat([0x5d], d).repeat([0x61], d - 1);
        if (!c.root) { p.str('junk'); p.raw(0x86); p.raw(0x30); sd(); }
      } else if (c.shape === 1) { // ((((...)))): TUPLE1 d times around None
        p.raw(0x4e).repeat([0x85], d);
        if (!c.root) { p.raw(0x30); sd(); }
      } else if (c.shape === 2) { // {'model': {'model': ... state dict}}: past the 4 wrapper levels findStateDict follows
        const n = Math.min(d, 200_000);
        p.repeat([0x7d, 0x8c, 5, ...Buffer.from('model')], n);
        sd();
        p.repeat([0x73], n);
      } else { // frozenset(frozenset(...)) via MARK ... FROZENSET
        p.repeat([0x28], Math.min(d, CAP)).raw(0x4e).repeat([0x91], Math.min(d, CAP));
      }
      return torchZip(p.bytes(), storages);
    }
    case 'many': {
      const n = Math.min(c.n, Math.floor(3_000_000 / c.keyLen)); // at most ~3 MB of keys
      const pad = (i) => {
        const near = c.near ? model[i % model.length].key + '.' : `t${i}.`;
        return (near + 'k'.repeat(c.keyLen)).slice(0, Math.max(near.length + 8, c.keyLen)) + i;
      };
      if (c.format === 0) { // safetensors: the model's tensors, then n zero-size tensors under long keys
        const header = {};
        const blobs = [];
        let off = 0;
        for (const t of model) {
          const bytes = numel(t.shape) * 4;
          header[t.key] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + bytes] };
          blobs.push(Buffer.alloc(bytes));
          off += bytes;
        }
        const zeroShapes = [[0], [0, 5], [7, 0, 3], [2 ** 31 - 1, 0], [0, 2 ** 53]];
        for (let i = 0; i < n; i++) header[pad(i)] = c.zero ? { dtype: r.pick(['F32', 'F16', 'I64', 'BOOL']), shape: r.pick(zeroShapes), data_offsets: [off, off] } : { dtype: 'U8', shape: [1], data_offsets: [off + i, off + i + 1] };
        if (!c.zero) blobs.push(Buffer.alloc(n));
        header.__metadata__ = Object.fromEntries(Array.from({ length: Math.min(n, 2000) }, (_, i) => [`m${i}`, 'v'.repeat(100)]));
        return writeSafetensorsRaw(header, Buffer.concat(blobs));
      }
      // torch zip: views of one storage (format 1) or a record per tensor (format 2)
      const storages = new Map();
      const views = model.map((t) => ({ key: t.key, storage: 'w', offset: 0, shape: t.shape, stride: rowMajor(t.shape) }));
      storages.set('w', Math.max(...model.map((t) => numel(t.shape))));
      for (let i = 0; i < n; i++) {
        const storage = c.format === 2 ? String(i) : 'w';
        if (c.format === 2) storages.set(storage, c.zero ? 0 : 1);
        views.push({ key: pad(i), storage, offset: 0, shape: c.zero ? [0] : [1], stride: [1] });
      }
      return torchZip(pickleStateDict(new Pickle(), views, storages).bytes(), storages);
    }
    case 'st-header': {
      let json;
      if (c.huge <= 1) { // deep nesting in a tensor entry or in __metadata__
        const deep = '['.repeat(c.depth) + ']'.repeat(c.depth);
        json = c.huge === 0 ? `{"__metadata__":{"a":${deep}},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}` : `{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,4]}}`;
      } else if (c.huge === 2) { // dims near 2^31 whose product passes 2^50, offsets to match
        const shape = [r.pick(HUGE_DIMS_ST), r.pick(HUGE_DIMS_ST), r.pick(HUGE_DIMS_ST)];
        const n = shape.reduce((a, d) => a * d, 4);
        json = JSON.stringify({ w: { dtype: 'F32', shape, data_offsets: [0, n] } });
      } else if (c.huge === 3) { // a shape of thousands of dimensions of 1
        json = JSON.stringify({ w: { dtype: 'F32', shape: Array(Math.min(c.depth, 200_000)).fill(1), data_offsets: [0, 4] } });
      } else { // nested objects
        json = `{"w":${'{"a":'.repeat(c.depth)}1${'}'.repeat(c.depth)}}`;
      }
      return writeSafetensorsRaw(json, Buffer.alloc(4));
    }
  }
  throw new Error(`unknown scaling weights kind ${c.kind}`);
}
