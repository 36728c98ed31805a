#!/usr/bin/env python3
"""GPU benchmark of vovc CUDA artifacts against PyTorch (runs on the GPU machine: no Node,
no network; needs nvcc, torch, timm, numpy). Prepared by `bash bench/gpu/prepare.sh`.

For every case in .travel/manifest.json (each model and shape at fp32, tf32, fp16 and bf16):
make the seeded PyTorch model (timm, or the fixtures' reference code for V-99-eSE), write its
weights in the artifact's blob layout and element type (BatchNorm folded in float64 as
recipe.json says, then rounded once; tensor-core conv weights as zero-padded rows), compile
the artifact with nvcc, run it, check its outputs against PyTorch fp32 with TF32 off (fp32:
|diff| <= 1e-3 + 1e-3 |ref|; reduced precision: compare.py's rule) before timing anything,
and print latency medians beside PyTorch eager fp32 (default TF32 on), eager channels_last +
AMP (fp16) and torch.compile (default mode, AMP fp16). A deadline keeps the whole run within 8 minutes:
what does not fit is reported as skipped.
"""
import json, os, struct, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAVEL = os.path.join(HERE, ".travel")
DEADLINE = time.time() + float(os.environ.get("VOVC_BENCH_SECONDS", "450"))
sys.path.insert(0, os.path.join(TRAVEL, "generator"))

FNV_SRC = r"""
#include <stdio.h>
#include <stdint.h>
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb"); if (!f) return 1;
  fseek(f, 32, SEEK_SET);
  uint32_t h = 2166136261u; unsigned char buf[1 << 16]; size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 16777619u;
  printf("%u\n", h); return 0;
}
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def torch_model(case):
    torch.manual_seed(0)
    if case["source"] == "timm":
        import timm
        m = timm.create_model(case["model"], pretrained=False, num_classes=1000)
        sd = m.state_dict()
    else:
        import vovnet_ref as V
        import conventions as C
        m = V.build(case["model"], seed=0)
        sd = None
    # Non-trivial BatchNorm statistics, like the fixtures, so that folding is exercised.
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            mod.running_mean.copy_(torch.rand(mod.running_mean.shape, generator=g) * 0.2 - 0.1)
            mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=g) * 0.4 + 0.8)
    m.eval()
    if case["source"] == "timm":
        sd = m.state_dict()
    else:
        sd = C.export_state_dict(m, "detectron2")
    return m, {k: v.detach().double().cpu().numpy() for k, v in sd.items()}


def to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns, round to nearest even (NaN kept quiet)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7F800000) == 0x7F800000
    nan &= (u & 0x7FFFFF) != 0
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    r[nan] = ((u[nan] | 0x400000) >> 16) & 0xFFFF
    return r.astype(np.uint16)


DTYPE_CODE = {"f32": 0, "f16": 1, "bf16": 2}
REDUCED = {"tf32": (1e-2, 0.9999), "fp16": (1e-2, 0.9999), "bf16": (6e-2, 0.999)}


def write_blob(recipe, sd, path, fnv_exe):
    data = np.zeros(recipe["totalElements"], dtype=np.float32)
    for e in recipe["entries"]:
        if "copy" in e:
            v = sd[e["copy"]]
        else:
            bn = e["bn"]
            scale = sd[bn["weight"]] / np.sqrt(sd[bn["running_var"]] + e["eps"])
            if e["fold"] == "weight":
                w = sd[e["conv"]]
                v = w * scale.reshape((-1,) + (1,) * (w.ndim - 1))
            else:
                v = sd[bn["bias"]] - sd[bn["running_mean"]] * scale
        flat = np.asarray(v, dtype=np.float64).reshape(-1).astype(np.float32)
        if "pitch" in e:
            rows = e["shape"][0]
            padded = np.zeros((rows, e["pitch"]), dtype=np.float32)
            padded[:, : flat.size // rows] = flat.reshape(rows, -1)
            data[e["offset"]:e["offset"] + padded.size] = padded.reshape(-1)
        else:
            data[e["offset"]:e["offset"] + e["numel"]] = flat
    dtype = recipe.get("dtype", "f32")
    body = data.astype(np.float16).tobytes() if dtype == "f16" else to_bf16_bits(data).tobytes() if dtype == "bf16" else data.tobytes()
    with open(path, "wb") as f:
        f.write(b"VOVCWTS\0" + struct.pack("<IIQII", 1, 32, data.size, 0, DTYPE_CODE[dtype]))
        f.write(body)
    h = int(sh([fnv_exe, path]).stdout)
    with open(path, "r+b") as f:
        f.seek(24)
        f.write(struct.pack("<I", h))


def compile_artifact(d):
    srcs = ["vovc_model.cu", "vovc_runtime.cu", "vovc_demo.cu"]
    arch = os.environ.get("VOVC_ARCH", "native")
    sh(["nvcc", "-std=c++17", "-O3", f"-arch={arch}", "-I", d, *srcs, "-o", "vovc_demo"], cwd=d)


def write_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def time_torch(fn, x, reps):
    with torch.inference_mode():
        for _ in range(3):
            fn(x)
        torch.cuda.synchronize()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn(x)
            torch.cuda.synchronize()
            ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts))


def outputs_of(m, case, x):
    names = [o["name"] for o in case["outputs"]]
    with torch.inference_mode():
        y = m(x)
    if isinstance(y, dict):
        return {n: y[n] for n in names}
    return {names[0]: y}


def main():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    if not torch.cuda.is_available():
        print("no GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 3
    cases = json.load(open(os.path.join(TRAVEL, "manifest.json")))
    work = tempfile.mkdtemp(prefix="vovc-gpu-")
    with open(os.path.join(work, "fnv.cu"), "w") as f:
        f.write(FNV_SRC)
    fnv_exe = os.path.join(work, "fnv")
    sh(["nvcc", "-x", "cu", os.path.join(work, "fnv.cu"), "-o", fnv_exe])
    dirs = {c["id"]: os.path.join(TRAVEL, "artifacts", c["id"]) for c in cases}
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(compile_artifact, dirs.values()))
    print(f"nvcc: {len(dirs)} artifacts in {time.time() - t0:.0f} s  ({torch.cuda.get_device_name()})")
    header = f"{'case':40} {'check':>14} {'vovc':>9} {'eager':>9} {'cl+amp':>9} {'compile':>9}  (median ms; eager fp32 with TF32, compile = torch.compile AMP channels_last)"
    print(header)
    models = {}
    torch_times = {}
    for c in cases:
        if time.time() > DEADLINE:
            print(f"{c['id']:40} skipped (time budget)")
            continue
        if c["model"] not in models:
            models[c["model"]] = torch_model(c)
        m, sd = models[c["model"]]
        d = dirs[c["id"]]
        write_blob(json.load(open(os.path.join(d, "recipe.json"))), sd, os.path.join(d, "weights.bin"), fnv_exe)
        x = torch.randn(*c["shape"], generator=torch.Generator().manual_seed(2))
        write_npy(os.path.join(d, "input.npy"), x.numpy())
        out = os.path.join(d, "out")
        os.makedirs(out, exist_ok=True)
        reps = 50 if c["shape"][0] == 1 else 10
        r = subprocess.run([os.path.join(d, "vovc_demo"), "input.npy", out, "--weights", "weights.bin", "--repeat", str(reps)], cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{c['id']:40} vovc_demo failed ({r.returncode}): {r.stderr.strip()}")
            continue
        vovc_ms = float(r.stdout.split("median=")[1].split()[0])
        mg = m.cuda()
        torch.backends.cudnn.allow_tf32 = False
        xg = x.cuda()
        ref = outputs_of(mg, c, xg)
        precision = c.get("precision", "fp32")
        worst, good = 0.0, True
        for name, t in ref.items():
            a = np.load(os.path.join(out, f"{name}.npy")).astype(np.float64)
            e = t.double().cpu().numpy()
            if precision == "fp32":
                worst = max(worst, float(np.max(np.abs(a - e) / (1e-3 + 1e-3 * np.abs(e)))))
                good &= worst <= 1
            else:
                rel = float(np.max(np.abs(a - e)) / np.max(np.abs(e)))
                cos = float((a * e).sum() / (np.linalg.norm(a) * np.linalg.norm(e) + 1e-300))
                worst = max(worst, rel)
                good &= bool(np.isfinite(a).all()) and rel <= REDUCED[precision][0] and cos >= REDUCED[precision][1]
        check = f"ok {worst:.1e}" if good else f"FAIL {worst:.2g}"
        base = f"{c['model']}-{'x'.join(map(str, c['shape']))}"
        if base not in torch_times:
            fwd = lambda t: mg(t)
            # PyTorch's own defaults for the timing: TF32 convolutions on (cudnn.allow_tf32).
            torch.backends.cudnn.allow_tf32 = True
            eager = time_torch(fwd, xg, reps)
            mcl = mg.to(memory_format=torch.channels_last)
            xcl = xg.to(memory_format=torch.channels_last)

            def amp(t):
                with torch.autocast("cuda", dtype=torch.float16):
                    return mcl(t)
            clamp = time_torch(amp, xcl, reps)
            comp = float("nan")
            if time.time() + 90 < DEADLINE:
                cm = torch.compile(mcl)

                def camp(t):
                    with torch.autocast("cuda", dtype=torch.float16):
                        return cm(t)
                comp = time_torch(camp, xcl, reps)
            torch.backends.cudnn.allow_tf32 = False
            mg = mg.to(memory_format=torch.contiguous_format)
            torch_times[base] = (eager, clamp, comp)
        eager, clamp, comp = torch_times[base]
        print(f"{c['id']:40} {check:>14} {vovc_ms:9.3f} {eager:9.3f} {clamp:9.3f} {comp:9.3f}")
        models[c["model"]] = (mg.cpu(), sd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
