#!/usr/bin/python3
"""PyTorch eager fp32 reference for entroscope's benchmark.

Loads a Hugging Face GPT-2 / GPT-NeoX checkpoint (config.json + model.safetensors) with its own
small safetensors parser (zero-copy views of a private memory map, like safetensors' own loader),
runs the forward pass in plain torch ops (transformers' eager semantics: GPT2LMHeadModel /
GPTNeoXForCausalLM, eval mode, no padding, positions 0..T-1), and computes per-token entropy and
surprisal in bits from the fp32 logits with float64 accumulation, the same computation as
entroscope's scorer.

  bench: time it; prints one JSON line with the fields of `entroscope bench`.
  check: compare entropy/surprisal with an `entroscope forward` output file.

Thread configuration comes from the caller: --torch-threads sets torch's intra-op pool; the BLAS
(Debian's libblas.so.3 alternative, OpenBLAS pthreads) reads OPENBLAS_NUM_THREADS from the
environment at import.

Needs only python3-torch and python3-numpy (Debian packages); no safetensors/transformers.
"""
import argparse
import json
import math
import mmap
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

LOG2E = 1.4426950408889634

ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """name -> tensor. Tensors are views of a private (copy-on-write) mapping: nothing is read
    until used, as with safetensors' safe_open. Returns (tensors, metadata)."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    (n,) = struct.unpack("<Q", mm[:8])
    header = json.loads(bytes(mm[8:8 + n]))
    base = 8 + n
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        dtype = ST_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        count = 1
        for d in shape:
            count *= d
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        t = torch.frombuffer(mm, dtype=dtype, count=count, offset=base + begin)
        assert t.element_size() * count == end - begin, name
        tensors[name] = t.view(shape)
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Minimal writer (used for the benchmark's input_ids files)."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_ids(path):
    tensors, _ = read_safetensors(path)
    ids = tensors["input_ids"]
    assert ids.dim() == 2, f"{path}: input_ids must be [B, T]"
    return ids.to(torch.int64).clone()


# ---------------------------------------------------------------- models

def f32(t):
    return t if t.dtype == torch.float32 else t.to(torch.float32)


class Gpt2:
    """GPT2LMHeadModel. Conv1D weights are [in, out]: y = x @ W + b (addmm, no transpose copy)."""

    def __init__(self, cfg, w):
        p = "transformer." if "transformer.wte.weight" in w else ""
        self.D = cfg["n_embd"]
        self.H = cfg["n_head"]
        self.L = cfg["n_layer"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        act = cfg.get("activation_function", "gelu_new")
        self.act = (lambda x: F.gelu(x)) if act == "gelu" else (lambda x: F.gelu(x, approximate="tanh"))
        self.scale_weights = cfg.get("scale_attn_weights", True)
        self.inv_layer = cfg.get("scale_attn_by_inverse_layer_idx", False)
        self.wte = f32(w[p + "wte.weight"])
        self.wpe = f32(w[p + "wpe.weight"])
        self.layers = []
        for l in range(self.L):
            q = f"{p}h.{l}."
            self.layers.append({k: f32(w[q + k]) for k in (
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias")})
        self.lnf_w = f32(w[p + "ln_f.weight"])
        self.lnf_b = f32(w[p + "ln_f.bias"])

    def forward(self, ids):
        B, T = ids.shape
        D, H = self.D, self.H
        hd = D // H
        x = (self.wte[ids] + self.wpe[:T]).view(B * T, D)
        causal = torch.ones(T, T, dtype=torch.bool).tril_()
        neg = torch.finfo(torch.float32).min
        for l, w in enumerate(self.layers):
            h = F.layer_norm(x, (D,), w["ln_1.weight"], w["ln_1.bias"], self.eps)
            qkv = torch.addmm(w["attn.c_attn.bias"], h, w["attn.c_attn.weight"])
            q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in qkv.split(D, dim=1))
            scale = 1.0
            if self.scale_weights:
                scale /= math.sqrt(hd)
            if self.inv_layer:
                scale /= l + 1
            att = torch.matmul(q, k.transpose(-1, -2)) * scale
            att = torch.where(causal, att, torch.tensor(neg))
            att = torch.softmax(att, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(B * T, D)
            x = x + torch.addmm(w["attn.c_proj.bias"], y, w["attn.c_proj.weight"])
            h = F.layer_norm(x, (D,), w["ln_2.weight"], w["ln_2.bias"], self.eps)
            m = self.act(torch.addmm(w["mlp.c_fc.bias"], h, w["mlp.c_fc.weight"]))
            x = x + torch.addmm(w["mlp.c_proj.bias"], m, w["mlp.c_proj.weight"])
        x = F.layer_norm(x, (D,), self.lnf_w, self.lnf_b, self.eps)
        return torch.mm(x, self.wte.t())  # [B*T, V], tied head


class GptNeoX:
    """GPTNeoXForCausalLM. nn.Linear weights are [out, in]: y = x @ W.T + b."""

    def __init__(self, cfg, w):
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg.get("layer_norm_eps", 1e-5)
        act = cfg.get("hidden_act", "gelu")
        self.act = (lambda x: F.gelu(x)) if act == "gelu" else (lambda x: F.gelu(x, approximate="tanh"))
        hd = self.D // self.H
        self.rot = int(hd * cfg.get("rotary_pct", 1.0))
        self.base = cfg.get("rotary_emb_base", 10000)
        self.parallel = cfg.get("use_parallel_residual", True)
        tied = cfg.get("tie_word_embeddings", False)
        self.embed_in = f32(w["gpt_neox.embed_in.weight"])
        self.layers = []
        for l in range(self.L):
            q = f"gpt_neox.layers.{l}."
            d = {}
            for k in ("input_layernorm.weight", "input_layernorm.bias", "attention.query_key_value.weight",
                      "attention.query_key_value.bias", "attention.dense.weight", "attention.dense.bias",
                      "post_attention_layernorm.weight", "post_attention_layernorm.bias",
                      "mlp.dense_h_to_4h.weight", "mlp.dense_h_to_4h.bias", "mlp.dense_4h_to_h.weight",
                      "mlp.dense_4h_to_h.bias"):
                d[k] = f32(w[q + k]) if (q + k) in w else None
            self.layers.append(d)
        self.lnf_w = f32(w["gpt_neox.final_layer_norm.weight"])
        self.lnf_b = f32(w["gpt_neox.final_layer_norm.bias"])
        self.head = self.embed_in if tied else f32(w["embed_out.weight"])

    def rotary(self, T):
        rd = self.rot
        inv_freq = 1.0 / (self.base ** (torch.arange(0, rd, 2, dtype=torch.float32) / rd))
        t = torch.arange(T, dtype=torch.float32)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    @staticmethod
    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def forward(self, ids):
        B, T = ids.shape
        D, H = self.D, self.H
        hd = D // H
        rd = self.rot
        cos, sin = self.rotary(T)
        x = self.embed_in[ids].view(B * T, D)
        causal = torch.ones(T, T, dtype=torch.bool).tril_()
        neg = torch.finfo(torch.float32).min
        for w in self.layers:
            h = F.layer_norm(x, (D,), w["input_layernorm.weight"], w["input_layernorm.bias"], self.eps)
            qkv = F.linear(h, w["attention.query_key_value.weight"], w["attention.query_key_value.bias"])
            qkv = qkv.view(B, T, H, 3 * hd).permute(0, 2, 1, 3)
            q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
            if rd > 0:
                qr, qp = q[..., :rd], q[..., rd:]
                kr, kp = k[..., :rd], k[..., rd:]
                q = torch.cat((qr * cos + self.rotate_half(qr) * sin, qp), dim=-1)
                k = torch.cat((kr * cos + self.rotate_half(kr) * sin, kp), dim=-1)
            att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
            att = torch.where(causal, att, torch.tensor(neg))
            att = torch.softmax(att, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(B * T, D)
            a = F.linear(y, w["attention.dense.weight"], w["attention.dense.bias"])
            if self.parallel:
                h2 = F.layer_norm(x, (D,), w["post_attention_layernorm.weight"], w["post_attention_layernorm.bias"], self.eps)
                m = F.linear(self.act(F.linear(h2, w["mlp.dense_h_to_4h.weight"], w["mlp.dense_h_to_4h.bias"])),
                             w["mlp.dense_4h_to_h.weight"], w["mlp.dense_4h_to_h.bias"])
                x = x + a + m
            else:
                x = x + a
                h2 = F.layer_norm(x, (D,), w["post_attention_layernorm.weight"], w["post_attention_layernorm.bias"], self.eps)
                m = F.linear(self.act(F.linear(h2, w["mlp.dense_h_to_4h.weight"], w["mlp.dense_h_to_4h.bias"])),
                             w["mlp.dense_4h_to_h.weight"], w["mlp.dense_4h_to_h.bias"])
                x = x + m
        x = F.layer_norm(x, (D,), self.lnf_w, self.lnf_b, self.eps)
        return F.linear(x, self.head)  # [B*T, V]


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    if cfg["model_type"] == "gpt2":
        return Gpt2(cfg, w), cfg
    if cfg["model_type"] == "gpt_neox":
        return GptNeoX(cfg, w), cfg
    raise SystemExit(f"{model_dir}: unsupported model_type {cfg['model_type']}")


# ---------------------------------------------------------------- scoring

def score(model, ids, chunk_rows=128):
    """entropy_bits [B, T] and surprisal_bits [B, T-1] (float64), as entroscope's score_rows:
    max-subtracted, float64 accumulation, from fp32 logits."""
    B, T = ids.shape
    logits = model.forward(ids)  # [B*T, V] fp32
    rows = B * T
    flat = ids.reshape(-1)
    nxt = torch.empty(rows, dtype=torch.int64)
    nxt[:-1] = flat[1:]
    nxt[-1] = 0
    entropy = torch.empty(rows, dtype=torch.float64)
    surprisal = torch.empty(rows, dtype=torch.float64)
    for r0 in range(0, rows, chunk_rows):
        r1 = min(rows, r0 + chunk_rows)
        lg = logits[r0:r1]
        m = lg.max(dim=1, keepdim=True).values
        d = lg.double() - m.double()
        e = d.exp()
        s = e.sum(dim=1)
        log_s = s.log()
        entropy[r0:r1] = ((log_s - (e * d).sum(dim=1) / s).clamp_min(0.0)) * LOG2E
        tgt = lg.gather(1, nxt[r0:r1].unsqueeze(1)).squeeze(1).double()
        surprisal[r0:r1] = (m.squeeze(1).double() + log_s - tgt) * LOG2E
    entropy = entropy.view(B, T)
    surprisal = surprisal.view(B, T)[:, :T - 1].contiguous()
    return entropy, surprisal


def blas_library():
    """The BLAS shared objects mapped into this process (to show which one torch calls)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if "blas" in base or "mkl" in base or "blis" in base:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def cmd_bench(args):
    t0 = time.perf_counter()
    model, cfg = load_model(args.model)
    load_s = time.perf_counter() - t0
    ids = load_ids(args.ids)
    B, T = ids.shape
    warm, times = [], []
    with torch.inference_mode():
        for _ in range(args.warmup):
            t0 = time.perf_counter()
            ent, sur = score(model, ids)
            warm.append(time.perf_counter() - t0)
        for _ in range(args.reps):
            t0 = time.perf_counter()
            ent, sur = score(model, ids)
            times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    med = sorted(times)[len(times) // 2] if len(times) % 2 else 0.5 * sum(sorted(times)[len(times) // 2 - 1:len(times) // 2 + 1])
    out = {
        "command": "torch_ref bench",
        "model": os.path.basename(os.path.normpath(args.model)),
        "model_type": cfg["model_type"],
        "batch": B, "tokens": T,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "blas_libraries": blas_library(),
        "reps": args.reps,
        "median_s": med, "min_s": min(times), "max_s": max(times), "times_s": times, "warmup_s": warm,
        "tokens_per_s": B * T / med,
        "peak_rss_mb": rss / 1e6,
        "load_s": load_s,
        "entropy_bits_median": float(ent.median()),
        "entropy_bits_min": float(ent.min()),
        "entropy_bits_max": float(ent.max()),
        "surprisal_bits_mean": float(sur.mean()) if sur.numel() else 0.0,
    }
    print(json.dumps(out), flush=True)


def cmd_check(args):
    model, _ = load_model(args.model)
    ids = load_ids(args.ids)
    with torch.inference_mode():
        ent, sur = score(model, ids)
    exp, _ = read_safetensors(args.expected)
    e_ids = exp["input_ids"].to(torch.int64)
    if not torch.equal(e_ids, ids):
        raise SystemExit(f"{args.expected}: input_ids differ from {args.ids}")
    d_ent = (ent - exp["entropy_bits"].double()).abs().max().item()
    d_sur = (sur - exp["surprisal_bits"].double()).abs().max().item() if sur.numel() else 0.0
    ok = d_ent <= args.tol and d_sur <= args.tol
    print(json.dumps({"command": "torch_ref check", "model": os.path.basename(os.path.normpath(args.model)),
                      "batch": ids.shape[0], "tokens": ids.shape[1],
                      "max_abs_entropy_diff_bits": d_ent, "max_abs_surprisal_diff_bits": d_sur,
                      "tolerance_bits": args.tol, "ok": ok}), flush=True)
    if not ok:
        sys.exit(1)


def cmd_ids(args):
    g = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, args.vocab, (args.batch, args.tokens), generator=g, dtype=torch.int64)
    write_safetensors(args.out, {"input_ids": ids}, {"seed": str(args.seed), "vocab": str(args.vocab)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="time scoring; one JSON line")
    b.add_argument("--model", required=True)
    b.add_argument("--ids", required=True, help="safetensors with input_ids I64 [B, T]")
    b.add_argument("--reps", type=int, default=3)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--torch-threads", type=int, default=1)
    c = sub.add_parser("check", help="compare with an `entroscope forward` output")
    c.add_argument("--model", required=True)
    c.add_argument("--ids", required=True)
    c.add_argument("--expected", required=True, help="entroscope forward --output file")
    c.add_argument("--tol", type=float, default=1e-4, help="max |difference| in bits")
    c.add_argument("--torch-threads", type=int, default=1)
    i = sub.add_parser("ids", help="write random input_ids")
    i.add_argument("--out", required=True)
    i.add_argument("--batch", type=int, required=True)
    i.add_argument("--tokens", type=int, required=True)
    i.add_argument("--vocab", type=int, required=True)
    i.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if hasattr(args, "torch_threads"):
        torch.set_num_threads(args.torch_threads)
    {"bench": cmd_bench, "check": cmd_check, "ids": cmd_ids}[args.cmd](args)


if __name__ == "__main__":
    main()
