// PyTorch checkpoints in the zip format of torch.save (torch >= 1.6).
//
// The zip holds one folder (named after the file, e.g. "weights/") with
//   data.pkl      the pickled object (a state dict, or a dict that contains one);
//   data/<key>    one record per storage: the raw bytes of its elements;
//   byteorder     "little" or "big" (torch >= 2.1; absent means little);
//   version       the format version.
// In data.pkl a tensor is torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
// where `storage` is a persistent id ('storage', torch.FloatStorage, key, location, numel).
// Entries are stored uncompressed and torch aligns each record to 64 bytes, so a record is a
// subarray of the file buffer and float32 tensors are views of it: no copy.
//
// The zip container is read with yauzl (central directory, zip64, file name checks); we only
// take each entry's data offset from it.

import type yauzl from 'yauzl';
import { VovcError, fail } from '../diag/diagnostics.js';
import { DTYPE_SIZE, isFloatDtype, type Dtype } from '../io/dtype.js';
import { numelOf, tensorFromBytes, type TensorEntry } from './tensor.js';
import { PyDict, PyGlobal, describe, unpickle } from './unpickler.js';

export interface TorchArchive {
  /** The archive's folder, with its trailing '/'. */
  readonly prefix: string;
  readonly littleEndian: boolean;
  readonly version: string | undefined;
  readonly pickle: Uint8Array;
  /** Storage records by key (the name under data/). */
  readonly records: ReadonlyMap<string, Uint8Array>;
}

/** Lists the entries of a torch zip and finds its pickle and storage records (no copies). */
export async function readTorchZip(buf: Buffer, name: string): Promise<TorchArchive> {
  const entries = new Map<string, Uint8Array>();
  let zip: yauzl.ZipFile | undefined;
  try {
    // Imported here, not at the top: yauzl and its stream machinery cost ~6 MB of resident
    // memory, which a .safetensors build need not pay.
    const { default: zipReader } = await import('yauzl');
    zip = await zipReader.fromBufferPromise(buf, { lazyEntries: true, autoClose: false });
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      if (entry.generalPurposeBitFlag & 1) fail('E4130', `${name}: zip entry '${entry.fileName}' is encrypted`);
      if (entry.compressionMethod !== 0) {
        fail('E4130', `${name}: zip entry '${entry.fileName}' is compressed (method ${entry.compressionMethod}); torch.save stores entries uncompressed, so re-save the checkpoint with torch.save`);
      }
      const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
      // A name twice is ambiguous: torch reads one entry, another reader may read the other.
      if (entries.has(entry.fileName)) fail('E4130', `${name}: the zip holds entry '${entry.fileName.slice(0, 200)}' twice; refusing an ambiguous archive (torch and other readers may read different copies)`);
      entries.set(entry.fileName, buf.subarray(fileDataStart, fileDataStart + entry.compressedSize));
    }
  } catch (e) {
    if (e instanceof VovcError) throw e;
    fail('E4130', `${name}: not a readable zip archive (${(e as Error).message}); the file may be truncated`);
  } finally {
    zip?.close();
  }

  const pickles = [...entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pickles.length !== 1) {
    const listed = [...entries.keys()].slice(0, 5).join(', ');
    fail('E4130', `${name}: not a PyTorch checkpoint: expected one '<folder>/data.pkl' in the zip, found ${pickles.length} (entries: ${listed || 'none'})`);
  }
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  if (entries.has(`${prefix}constants.pkl`) || [...entries.keys()].some((k) => k.startsWith(`${prefix}code/`))) {
    fail('E4130', `${name}: this is a TorchScript archive (torch.jit.save), not a checkpoint: save model.state_dict() with torch.save instead`);
  }
  const text = (k: string) => {
    const b = entries.get(prefix + k);
    return b && new TextDecoder().decode(b).trim();
  };
  const byteorder = text('byteorder') ?? 'little';
  if (byteorder !== 'little' && byteorder !== 'big') fail('E4130', `${name}: unknown byteorder '${byteorder}' (expected 'little' or 'big')`);
  const records = new Map<string, Uint8Array>();
  for (const [k, v] of entries) if (k.startsWith(`${prefix}data/`)) records.set(k.slice(prefix.length + 5), v);
  return { prefix, littleEndian: byteorder === 'little', version: text('version'), pickle: entries.get(pickles[0])!, records };
}

/** A storage: its record's bytes, read as `dtype` elements, `numel` of them declared. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: Dtype,
    readonly bytes: Uint8Array,
  ) {}
}

/** A tensor as the pickle describes it: a strided view of a storage. Decoded on demand. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: Dtype,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const STORAGE_TYPES: Readonly<Record<string, Dtype>> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8',
  ByteStorage: 'uint8', BoolStorage: 'bool', UntypedStorage: 'uint8',
};
const TORCH_DTYPES: Readonly<Record<string, Dtype>> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  float64: 'float64', double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32',
  int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

/**
 * Runs the archive's pickle with only these globals allowed: OrderedDict, the tensor and
 * parameter rebuild functions, storage classes and dtypes. Returns the pickled object with
 * tensors as TensorRef and dicts as PyDict.
 */
export function unpickleTorch(archive: TorchArchive, name: string): unknown {
  const bad = (msg: string): never => fail('E4131', `${name}: malformed checkpoint pickle: ${msg}`);
  const dtypeOf = new Map<PyGlobal, Dtype>();
  const typeGlobal = (qualname: string, dtype: Dtype) => {
    const g = new PyGlobal(qualname);
    dtypeOf.set(g, dtype);
    return g;
  };
  const rebuild = (qualname: string, args: unknown[], dtypeArg?: unknown): TensorRef => {
    const [storage, offset, shape, stride] = args;
    const dtype = dtypeArg === undefined ? (storage instanceof StorageRef ? storage.dtype : undefined) : dtypeOf.get(dtypeArg as PyGlobal);
    if (!(storage instanceof StorageRef) || !isInt(offset) || !isIntList(shape) || !isIntList(stride) || shape.length !== stride.length || !dtype) {
      bad(`${qualname} called with unexpected arguments (${args.slice(0, 4).map(describe).join(', ')})`);
    }
    return new TensorRef(storage as StorageRef, dtype!, offset as number, shape as number[], stride as number[]);
  };
  const parameter = (args: unknown[]) => (args[0] instanceof TensorRef ? args[0] : bad(`a parameter wraps ${describe(args[0])} instead of a tensor`));
  const functions: Record<string, (args: unknown[]) => unknown> = {
    'collections.OrderedDict': (args) => {
      const d = new PyDict();
      const pairs = args[0] ?? [];
      if (args.length > 1 || !Array.isArray(pairs)) bad(`OrderedDict called with ${describe(args[0])}`);
      for (const p of pairs as unknown[]) {
        if (!Array.isArray(p) || p.length !== 2) bad('OrderedDict built from something other than key-value pairs');
        d.map.set((p as unknown[])[0], (p as unknown[])[1]);
      }
      return d;
    },
    'torch._utils._rebuild_tensor_v2': (args) => rebuild('_rebuild_tensor_v2', args),
    'torch._utils._rebuild_tensor_v3': (args) => rebuild('_rebuild_tensor_v3', args, args[6]),
    'torch._utils._rebuild_parameter': parameter,
    'torch._utils._rebuild_parameter_with_state': parameter,
  };
  const globals = new Map<string, PyGlobal>();
  for (const [q, f] of Object.entries(functions)) globals.set(q, new PyGlobal(q, f));
  for (const [n, d] of Object.entries(STORAGE_TYPES)) globals.set(`torch.${n}`, typeGlobal(`torch.${n}`, d));
  for (const [n, d] of Object.entries(TORCH_DTYPES)) globals.set(`torch.${n}`, typeGlobal(`torch.${n}`, d));

  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const [tag, type, key, , numel] = Array.isArray(pid) ? pid : [];
    const dtype = dtypeOf.get(type as PyGlobal);
    if (tag !== 'storage' || !dtype || typeof key !== 'string' || !isInt(numel)) bad(`unexpected persistent id (${Array.isArray(pid) ? pid.map(describe).join(', ') : describe(pid)})`);
    const id = `${key}:${dtype}`;
    const known = storages.get(id);
    if (known) return known;
    const bytes = archive.records.get(key as string);
    if (!bytes) bad(`storage '${key}' has no record ${archive.prefix}data/${key} in the archive`);
    const need = (numel as number) * DTYPE_SIZE[dtype!];
    if (need > bytes!.length) fail('E4133', `${name}: storage '${key}' declares ${numel} ${dtype} elements (${need} bytes) but its record has ${bytes!.length} bytes`);
    const s = new StorageRef(key as string, dtype!, bytes!.subarray(0, need));
    storages.set(id, s);
    return s;
  };
  return unpickle(archive.pickle, name, { resolve: (module, field) => globals.get(`${module}.${field}`), persistentLoad });
}

/** What decoding may allocate in all for one checkpoint: the shared budget of its lazy tensors. */
export interface DecodeBudget {
  /** Bytes still allowed (4x the file size, plus a margin, at the start). */
  left: number;
  readonly total: number;
}

/** The expansion budget of a checkpoint file of `fileBytes` bytes: fp16 and bf16 widen to fp32 (2x), views may gather. */
export const decodeBudget = (fileBytes: number): DecodeBudget => {
  const total = 4 * fileBytes + (64 << 20);
  return { left: total, total };
};

/**
 * A tensor of the archive, checked now (its view lies inside its storage) and decoded on first
 * use: a model binds only its own tensors, so views of one storage (a checkpoint may hold
 * hundreds of transposes of one buffer) are never gathered unless bound, and each at most once.
 * A contiguous little-endian float32 view costs nothing (it is the file's bytes); every other
 * decode draws from the checkpoint's budget, and overdrawing it is E4133.
 */
class LazyTensor implements TensorEntry {
  private decoded?: TensorEntry;
  constructor(
    readonly key: string,
    private readonly ref: TensorRef,
    private readonly littleEndian: boolean,
    private readonly name: string,
    private readonly budget: DecodeBudget,
  ) {}
  get dtype(): Dtype {
    return this.ref.dtype;
  }
  get shape(): readonly number[] {
    return this.ref.shape;
  }
  get data(): Float32Array | null {
    return this.entry().data;
  }
  get int(): BigInt64Array | Int32Array | undefined {
    return this.entry().int;
  }
  private entry(): TensorEntry {
    if (!this.decoded) {
      const t = this.ref;
      const free = t.dtype === 'float32' && this.littleEndian && isContiguous(t);
      const cost = free ? 0 : numelOf(t.shape) * (isFloatDtype(t.dtype) ? 4 : t.dtype === 'int64' ? 8 : 4);
      if (cost > this.budget.left) {
        fail('E4133', `${this.name}: decoding tensor '${this.key.slice(0, 200)}' (${numelOf(t.shape)} ${t.dtype} elements) would expand the checkpoint's tensors past ${this.budget.total} bytes (4x the file): refusing a file whose views multiply its data`);
      }
      this.budget.left -= cost;
      this.decoded = decodeView(this.key, t, this.littleEndian);
    }
    return this.decoded;
  }
}

function isContiguous(t: TensorRef): boolean {
  for (let d = t.shape.length - 1, expect = 1; d >= 0; expect *= t.shape[d--]) if (t.shape[d] !== 1 && t.stride[d] !== expect) return false;
  return true;
}

/**
 * A tensor of the archive, its view checked against its storage now and its values decoded when
 * first read (LazyTensor): a contiguous view in place of its bytes, any other (a transposed or
 * sliced view) gathered into a fresh row-major array.
 */
export function materialize(key: string, t: TensorRef, littleEndian: boolean, name: string, budget: DecodeBudget = decodeBudget(t.storage.bytes.length)): TensorEntry {
  const size = DTYPE_SIZE[t.dtype];
  const available = Math.floor(t.storage.bytes.length / size);
  const numel = numelOf(t.shape);
  const view = `offset ${t.offset}, shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}]`;
  if (numel === 0) return tensorFromBytes(key, t.dtype, t.shape, new Uint8Array(0), littleEndian, false);
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.stride[d];
  if (last >= available) fail('E4133', `${name}: tensor '${key}' (${view}) reaches element ${last} of storage '${t.storage.key}', which has ${available} ${t.dtype} elements`);
  // A view with more elements than its storage repeats elements (stride 0, as expand() makes);
  // refusing it keeps memory bounded by the file size.
  if (numel > available) fail('E4133', `${name}: tensor '${key}' (${view}) has more elements than its storage '${t.storage.key}' (${available}): overlapping views are not supported`);
  return new LazyTensor(key, t, littleEndian, name, budget);
}

/** The values of a checked view (materialize checked it). */
function decodeView(key: string, t: TensorRef, littleEndian: boolean): TensorEntry {
  const size = DTYPE_SIZE[t.dtype];
  const numel = numelOf(t.shape);
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.stride[d];
  if (isContiguous(t)) return tensorFromBytes(key, t.dtype, t.shape, t.storage.bytes.subarray(t.offset * size, (t.offset + numel) * size), littleEndian, true);

  // Decode the span the view touches, then walk it with the strides (odometer order).
  const span = tensorFromBytes(key, t.dtype, [last - t.offset + 1], t.storage.bytes.subarray(t.offset * size, (last + 1) * size), littleEndian, true);
  const src = (span.data ?? span.int)!;
  const out = new (src.constructor as { new (n: number): typeof src })(numel);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0, p = 0; i < numel; i++) {
    out[i] = src[p];
    for (let d = t.shape.length - 1; d >= 0; d--) {
      p += t.stride[d];
      if (++idx[d] < t.shape[d]) break;
      p -= t.stride[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out instanceof Float32Array ? { key, dtype: t.dtype, shape: t.shape, data: out } : { key, dtype: t.dtype, shape: t.shape, data: null, int: out };
}
