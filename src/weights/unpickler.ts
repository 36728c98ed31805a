// A restricted unpickler: a pickle virtual machine for the binary opcodes of protocols 1..5
// that never imports or calls anything by itself.
//
// Python's pickle runs code: GLOBAL names any importable function (os.system, builtins.eval)
// and REDUCE calls it. Here every GLOBAL (also INST, OBJ, STACK_GLOBAL) goes through the
// caller's `resolve`, which returns a PyGlobal for the few names it allows; any other name
// stops the load with an error naming it, before anything could be called. REDUCE and NEWOBJ
// only call the JS function a PyGlobal carries. Lengths are checked against the bytes left,
// memo indices live in a Map, and every opcode consumes input, so a lying or hostile pickle
// ends in an error, never in an unbounded allocation or a loop.
//
// Values: None -> null, bool, int -> number (bigint beyond 2^53), float -> number,
// str -> string, bytes -> Uint8Array, list and tuple -> array, dict -> PyDict, set -> Set.

import { fail } from '../diag/diagnostics.js';

/** A Python dict (also OrderedDict), keys in insertion order. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
}

/** An allowed global; `call` is present when REDUCE / NEWOBJ may call it. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: unknown[]) => unknown,
  ) {}
}

export interface UnpickleHooks {
  /** The object for global `module.name`, or undefined to refuse the pickle. */
  resolve(module: string, name: string): PyGlobal | undefined;
  /** The object a persistent id (BINPERSID) stands for. */
  persistentLoad(pid: unknown): unknown;
}

/** The longest integer we accept (LONG1 / LONG4), in bytes; checkpoints use a few. */
const MAX_LONG_BYTES = 64;
/**
 * Bounds on what a pickle may build, far above any checkpoint (a state dict of 10^5 tensors
 * memoizes a few 10^5 objects) and below what would exhaust a JavaScript Map or the heap:
 * memo entries, the value stack, and the items of one list, dict or set.
 */
const MAX_MEMO = 1 << 22;
const MAX_STACK = 1 << 22;
const MAX_ITEMS = 1 << 22;
const UTF8 = new TextDecoder();

/** Bytes [from, to) one character per byte: Latin-1 (TextDecoder's 'latin1' is really windows-1252). */
function latin1Of(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  // Per character for the short names that make up most pickles; in chunks for long strings.
  if (to - from <= 64) for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]);
  else for (let i = from; i < to; i += 8192) s += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, to)));
  return s;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return `'${v.qualname}'`;
  if (Array.isArray(v)) return 'list/tuple';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Set) return 'set';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v === 'string' ? 'str' : typeof v;
}

/** Runs the pickle in `input` and returns the object it builds; `name` (the file) prefixes every error message. */
export function unpickle(input: Uint8Array, name: string, hooks: UnpickleHooks): unknown {
  // A plain Uint8Array: a Buffer's subarray() is several times slower.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const bad = (what: string): never => fail('E4131', `${name}: malformed pickle: ${what} (opcode at byte ${opAt})`);
  const take = (n: number): number => {
    if (n > bytes.length - pos) bad(`needs ${n} more bytes but the pickle ends at byte ${bytes.length}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[take(1)];
  const u16 = () => view.getUint16(take(2), true);
  const u32 = () => view.getUint32(take(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(take(8), true);
    return v > BigInt(bytes.length) ? bad(`length ${v} exceeds the pickle size`) : Number(v);
  };
  const copy = (n: number) => bytes.slice(take(n), pos);
  const latin1 = (n: number) => latin1Of(bytes, take(n), pos);
  const utf8 = (n: number): string => {
    const at = take(n);
    for (let i = at; i < pos; i++) if (bytes[i] > 0x7f) return UTF8.decode(bytes.subarray(at, pos));
    return latin1Of(bytes, at, pos); // ASCII
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) bad('unterminated text line');
    return latin1(end - pos + 1).slice(0, -1);
  };
  const signedLE = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) bad(`an integer of ${n} bytes is too large`);
    const at = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  // Like Python's, the stack above the last MARK is all an opcode may touch.
  const top = (): unknown => {
    if (stack.length === (marks.length ? marks[marks.length - 1] : 0)) bad('stack underflow');
    return stack[stack.length - 1];
  };
  const pop = (): unknown => {
    top();
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) bad('no MARK to pop to');
    return stack.splice(m!);
  };
  const global = (module: string, field: string): PyGlobal => {
    const g = hooks.resolve(module, field);
    if (!g) {
      // GLOBAL reads names up to a newline: in a damaged pickle that can be kilobytes of anything.
      const qualname = `${module}.${field}`;
      const shown = qualname.length > 100 ? `${qualname.slice(0, 100)}...` : qualname;
      fail('E4132', `${name}: refusing to load: the pickle calls global '${shown}' (only tensors and dicts are allowed)`, {
        notes: ['load it in PyTorch and save model.state_dict() instead, or convert the checkpoint to .safetensors'],
      });
    }
    return g!;
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal) || !fn.call) bad(`calls ${describe(fn)}, which is not callable`);
    if (!Array.isArray(args)) bad(`call of '${(fn as PyGlobal).qualname}' with ${describe(args)} instead of an argument tuple`);
    return (fn as PyGlobal).call!(args as unknown[]);
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof PyDict)) bad(`SETITEM(S) on ${describe(target)}`);
    if (kv.length % 2) bad('SETITEMS with an odd number of items');
    for (let i = 0; i < kv.length; i += 2) (target as PyDict).map.set(kv[i], kv[i + 1]);
    if ((target as PyDict).map.size > MAX_ITEMS) bad(`a dict of more than ${MAX_ITEMS} items`);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) bad(`APPEND(S) on ${describe(target)}`);
    if ((target as unknown[]).length + items.length > MAX_ITEMS) bad(`a list of more than ${MAX_ITEMS} items`);
    for (const it of items) (target as unknown[]).push(it);
  };
  const addItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Set)) bad(`ADDITEMS on ${describe(target)}`);
    for (const it of items) (target as Set<unknown>).add(it);
    if ((target as Set<unknown>).size > MAX_ITEMS) bad(`a set of more than ${MAX_ITEMS} items`);
  };
  const memoGet = (i: number) => (memo.has(i) ? memo.get(i) : bad(`memo entry ${i} is not defined`));
  const memoPut = (i: number, v: unknown) => {
    if (memo.size >= MAX_MEMO && !memo.has(i)) bad(`more than ${MAX_MEMO} memo entries (no checkpoint has that many objects)`);
    memo.set(i, v);
  };
  /** A decimal index of a text opcode (PUT, GET). */
  const lineIndex = (what: string): number => {
    const t = line();
    if (!/^\d{1,10}$/.test(t)) bad(`${what} with index '${t.slice(0, 20)}'`);
    return Number(t);
  };
  /** A protocol-0/1 INT or LONG line: decimal, an optional L suffix; I01 / I00 are True / False. */
  const lineInt = (allowBool: boolean): number | bigint | boolean => {
    const t = line();
    if (allowBool && t === '01') return true;
    if (allowBool && t === '00') return false;
    const m = /^([-+]?\d{1,200})L?$/.exec(t);
    if (!m) bad(`an integer line '${t.slice(0, 20)}'`);
    const v = BigInt(m![1]);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  /** A protocol-0 STRING line: a Python str literal in quotes, with backslash escapes (latin-1). */
  const lineString = (): string => {
    const t = line();
    const q = t[0];
    if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) bad('a STRING line that is not a quoted literal');
    return t.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
      if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
      if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
      return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? `\\${e}`;
    });
  };
  /** A protocol-0 UNICODE line: raw-unicode-escape (\uXXXX, \UXXXXXXXX), UTF-8 otherwise. */
  const lineUnicode = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) bad('unterminated text line');
    const t = new TextDecoder('utf-8').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return t.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u: string, U: string) => String.fromCodePoint(parseInt(u ?? U, 16)));
  };

  for (;;) {
    if (pos >= bytes.length) bad('the pickle ends without STOP (truncated?)');
    opAt = pos;
    if (stack.length > MAX_STACK) bad(`a stack of more than ${MAX_STACK} values (no checkpoint needs that many)`);
    const op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) bad(`pickle protocol ${v} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: a length prefix for buffered reading; the opcodes simply go on
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;

      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(view.getInt32(take(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(signedLE(u8())); break; // LONG1
      case 0x8b: { // LONG4
        const n = view.getInt32(take(4), true);
        if (n < 0) bad('negative LONG4 length');
        stack.push(signedLE(n));
        break;
      }
      case 0x47: stack.push(view.getFloat64(take(8), false)); break; // BINFLOAT (big-endian)

      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break; // BINUNICODE8
      case 0x54: { // BINSTRING (protocol 1 str, decoded like Python 3 does for latin-1 data)
        const n = view.getInt32(take(4), true);
        if (n < 0) bad('negative BINSTRING length');
        stack.push(latin1(n));
        break;
      }
      case 0x55: stack.push(latin1(u8())); break; // SHORT_BINSTRING
      case 0x42: stack.push(copy(u32())); break; // BINBYTES
      case 0x43: stack.push(copy(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(copy(u64())); break; // BINBYTES8
      case 0x96: stack.push(copy(u64())); break; // BYTEARRAY8

      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        addItems(top(), items);
        break;
      }

      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x71: memoPut(u8(), top()); break; // BINPUT
      case 0x72: memoPut(u32(), top()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size, top()); break; // MEMOIZE
      case 0x70: memoPut(lineIndex('PUT'), top()); break; // PUT (protocol 0)
      case 0x67: stack.push(memoGet(lineIndex('GET'))); break; // GET (protocol 0)
      case 0x49: stack.push(lineInt(true)); break; // INT (protocols 0-1; I01/I00 are the booleans)
      case 0x4c: stack.push(lineInt(false)); break; // LONG (protocol 0)
      case 0x46: { // FLOAT (protocol 0, repr text)
        const t = line();
        const v = Number(t);
        if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$/i.test(t)) bad(`a FLOAT line '${t.slice(0, 20)}'`);
        stack.push(/nan/i.test(t) ? NaN : /inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : v);
        break;
      }
      case 0x53: stack.push(lineString()); break; // STRING (protocol 0)
      case 0x50: // PERSID: a text persistent id, what torch.save(..., pickle_protocol=0) writes for a storage
        bad('a protocol-0 persistent id (PERSID): torch.save with pickle_protocol=0 writes storages that torch.load cannot read back either; re-save with the default protocol');
        break;
      case 0x56: stack.push(lineUnicode()); break; // UNICODE (protocol 0)

      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const field = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof field !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, field as string));
        break;
      }
      case 0x69: { // INST "module\nname\n": class called with the items since MARK
        const module = line();
        const cls = global(module, line());
        stack.push(call(cls, popMark()));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args... -> cls(*args)
        const items = popMark();
        if (items.length === 0) bad('OBJ without a class');
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size) bad('NEWOBJ_EX with keyword arguments');
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state); instance attributes (an OrderedDict's _metadata) are not needed
        pop();
        if (top() instanceof PyGlobal) bad(`BUILD on ${describe(top())}`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;

      case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4
        fail('E4132', `${name}: refusing to load: the pickle uses the copyreg extension registry (only tensors and dicts are allowed)`);
        break;
      default: {
        const c = op >= 0x20 && op < 0x7f ? `'${String.fromCharCode(op)}' ` : '';
        bad(`unsupported opcode ${c}0x${op.toString(16).padStart(2, '0')} (text protocol 0 and out-of-band buffers are not supported)`);
      }
    }
  }
}
