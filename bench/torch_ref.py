#!/usr/bin/python3
"""PyTorch eager fp32 reference for entroscope's benchmark.

Loads a Hugging Face checkpoint (config.json + model.safetensors or its shards) with its own small
safetensors parser (zero-copy views of a private memory map, like safetensors' own loader), runs the
forward pass in plain torch ops (transformers' eager semantics, eval mode, no padding, positions
0..T-1) and computes per-token entropy and surprisal in bits from the fp32 logits with float64
accumulation, the same computation as entroscope's scorer.

model_type: gpt2 (GPT2LMHeadModel), gpt_neox (GPTNeoXForCausalLM), llama, mistral, qwen2, qwen3,
olmo2 (LlamaForCausalLM & co.: RMSNorm, SwiGLU, rotary with default/linear/llama3 scaling, GQA,
sliding windows, QK-norm), opt (OPTForCausalLM), gpt_neo (GPTNeoForCausalLM), gptj (GPTJForCausalLM).

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


# Helpers shared by the families below (transformers' eager code paths, in plain torch ops).

ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


def activation(name):
    if name not in ACTIVATIONS:
        raise SystemExit(f"unsupported activation {name!r}")
    return ACTIVATIONS[name]


def find_prefix(w, key, prefixes):
    """The first base-model prefix under which `key` is stored (checkpoints may omit it)."""
    for p in prefixes:
        if p + key in w:
            return p
    raise SystemExit(f"checkpoint has no {key!r} under any of the prefixes {prefixes}")


def opt_tensor(w, name):
    return f32(w[name]) if name in w else None


def additive_mask(T, window=None):
    """[T, T] float mask added to the scores, as transformers' eager path: 0 where key j is visible
    from query i (j <= i, and i - window < j with a sliding window), finfo.min elsewhere."""
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    visible = j <= i
    if window is not None:
        visible &= j > i - window
    mask = torch.zeros(T, T, dtype=torch.float32)
    mask.masked_fill_(~visible, torch.finfo(torch.float32).min)
    return mask


def rms_norm(x, weight, eps):
    """transformers' *RMSNorm: x * rsqrt(mean(x^2) + eps) * w, in float32."""
    var = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def attend(q, k, v, mask, scale):
    """Eager attention: q [B, H, T, d], k/v [B, KVH, T, d]; GQA by repeat_kv (expand + reshape,
    a copy, as transformers); scores * scale + additive mask; softmax in float32; returns
    [B*T, H*d]."""
    B, H, T, d = q.shape
    kvh = k.shape[1]
    if kvh != H:
        n = H // kvh
        k = k[:, :, None].expand(B, kvh, n, T, d).reshape(B, H, T, d)
        v = v[:, :, None].expand(B, kvh, n, T, v.shape[-1]).reshape(B, H, T, v.shape[-1])
    att = torch.matmul(q, k.transpose(2, 3))
    if scale != 1.0:
        att = att * scale
    att = att + mask
    att = F.softmax(att, dim=-1, dtype=torch.float32).to(q.dtype)  # no-op in fp32
    y = torch.matmul(att, v)  # [B, H, T, dv]
    return y.transpose(1, 2).reshape(B * T, H * y.shape[-1])


def rope_inv_freq(cfg, head_dim):
    """inv_freq of the half-split rotary, with rope_scaling / rope_parameters (default, linear, llama3).
    Computed in float32 as transformers' rope init functions."""
    params = cfg.get("rope_parameters") or {}
    scaling = cfg.get("rope_scaling") or {}
    if not scaling and params.get("rope_type", params.get("type", "default")) != "default":
        scaling = params
    theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
    dim = int(head_dim * cfg.get("partial_rotary_factor", 1.0))
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    kind = scaling.get("rope_type", scaling.get("type", "default")) if scaling else "default"
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        lo_f = scaling["low_freq_factor"]
        hi_f = scaling["high_freq_factor"]
        orig = scaling["original_max_position_embeddings"]
        lo_wl = orig / lo_f
        hi_wl = orig / hi_f
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > lo_wl, inv / factor, inv)
        smooth = (orig / wavelen - lo_f) / (hi_f - lo_f)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = (wavelen >= hi_wl) & (wavelen <= lo_wl)
        return torch.where(medium, smoothed, out)
    raise SystemExit(f"unsupported rope scaling type {kind!r}")


def rope_cos_sin(inv_freq, T):
    """cos, sin [T, 2*len(inv_freq)] = cat(f, f) with f = pos * inv_freq (float32)."""
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class LlamaLike:
    """LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Olmo2ForCausalLM.

    RMSNorm, SwiGLU MLP, half-split rotary (rope scaling default/linear/llama3), grouped-query
    attention, sliding windows per the family's config rules, Qwen3 per-head QK-norm, OLMo-2
    full-width QK-norm and post-norm blocks, tied or untied head. nn.Linear weights [out, in]
    through F.linear (addmm on a transposed view, no copies)."""

    def __init__(self, cfg, w):
        mt = cfg["model_type"]
        self.mt = mt
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.KVH = cfg.get("num_key_value_heads") or self.H
        self.L = cfg["num_hidden_layers"]
        default_hd = 128 if mt == "qwen3" else self.D // self.H
        self.hd = cfg.get("head_dim") or default_hd
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.act = activation(cfg.get("hidden_act", "silu"))
        self.inv_freq = rope_inv_freq(cfg, self.hd)
        self.olmo2 = mt == "olmo2"
        self.windows = self.layer_windows(cfg)
        p = find_prefix(w, "embed_tokens.weight", ("model.", ""))
        self.embed = f32(w[p + "embed_tokens.weight"])
        self.layers = []
        for l in range(self.L):
            q = f"{p}layers.{l}."
            d = {}
            for k in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
                d[k] = f32(w[q + k + ".weight"])
                d[k + ".bias"] = opt_tensor(w, q + k + ".bias")
            for k in ("input_layernorm", "post_attention_layernorm", "post_feedforward_layernorm",
                      "self_attn.q_norm", "self_attn.k_norm"):
                d[k] = opt_tensor(w, q + k + ".weight")
            need = ["post_attention_layernorm"]
            need += ["post_feedforward_layernorm", "self_attn.q_norm", "self_attn.k_norm"] if self.olmo2 else \
                ["input_layernorm"]
            if mt == "qwen3":
                need += ["self_attn.q_norm", "self_attn.k_norm"]
            for k in need:
                if d[k] is None:
                    raise SystemExit(f"checkpoint has no {q + k}.weight")
            self.layers.append(d)
        self.norm = f32(w[p + "norm.weight"])
        # These config classes default to untied; tied, a stored lm_head.weight equals embed_tokens.
        self.head = self.embed if cfg.get("tie_word_embeddings", False) else f32(w["lm_head.weight"])

    def layer_windows(self, cfg):
        """Sliding window (or None) per layer, by the family's rules."""
        mt, L = cfg["model_type"], cfg["num_hidden_layers"]
        sw = cfg.get("sliding_window")
        if mt == "mistral":
            return [sw] * L
        if mt in ("qwen2", "qwen3"):
            if not cfg.get("use_sliding_window", False) or sw is None:
                return [None] * L
            types = cfg.get("layer_types")
            if types:
                return [sw if t == "sliding_attention" else None for t in types]
            mwl = cfg.get("max_window_layers", L)
            return [sw if l >= mwl else None for l in range(L)]
        return [None] * L

    def forward(self, ids):
        B, T = ids.shape
        H, KVH, hd, eps = self.H, self.KVH, self.hd, self.eps
        cos, sin = rope_cos_sin(self.inv_freq, T)
        masks = {win: additive_mask(T, win) for win in set(self.windows)}
        scale = hd ** -0.5
        x = self.embed[ids].view(B * T, self.D)
        for w, win in zip(self.layers, self.windows):
            h = x if self.olmo2 else rms_norm(x, w["input_layernorm"], eps)
            q = F.linear(h, w["self_attn.q_proj"], w["self_attn.q_proj.bias"])
            k = F.linear(h, w["self_attn.k_proj"], w["self_attn.k_proj.bias"])
            v = F.linear(h, w["self_attn.v_proj"], w["self_attn.v_proj.bias"])
            if self.olmo2:  # RMSNorm over the full projections, before the head split
                q = rms_norm(q, w["self_attn.q_norm"], eps)
                k = rms_norm(k, w["self_attn.k_norm"], eps)
            q = q.view(B, T, H, hd)
            k = k.view(B, T, KVH, hd)
            if not self.olmo2 and w["self_attn.q_norm"] is not None:  # Qwen3: per head
                q = rms_norm(q, w["self_attn.q_norm"], eps)
                k = rms_norm(k, w["self_attn.k_norm"], eps)
            q = q.transpose(1, 2)
            k = k.transpose(1, 2)
            v = v.view(B, T, KVH, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            y = attend(q, k, v, masks[win], scale)
            a = F.linear(y, w["self_attn.o_proj"], w["self_attn.o_proj.bias"])
            if self.olmo2:
                x = x + rms_norm(a, w["post_attention_layernorm"], eps)
                h = x
            else:
                x = x + a
                h = rms_norm(x, w["post_attention_layernorm"], eps)
            m = self.act(F.linear(h, w["mlp.gate_proj"], w["mlp.gate_proj.bias"])) * \
                F.linear(h, w["mlp.up_proj"], w["mlp.up_proj.bias"])
            m = F.linear(m, w["mlp.down_proj"], w["mlp.down_proj.bias"])
            if self.olmo2:
                m = rms_norm(m, w["post_feedforward_layernorm"], eps)
            x = x + m
        x = rms_norm(x, self.norm, eps)
        return F.linear(x, self.head)  # [B*T, V]


class Opt:
    """OPTForCausalLM: learned positions at row pos + 2, optional project_in/out, pre-LN
    (do_layer_norm_before, + decoder final_layer_norm) or post-LN blocks, q scaled by head_dim^-0.5
    after its bias, ReLU MLP, head tied to embed_tokens."""

    def __init__(self, cfg, w):
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.L = cfg["num_hidden_layers"]
        self.pre = cfg.get("do_layer_norm_before", True)
        self.act = activation(cfg.get("activation_function", "relu"))
        self.eps = 1e-5
        p = find_prefix(w, "embed_tokens.weight", ("model.decoder.", "decoder.", ""))
        self.embed = f32(w[p + "embed_tokens.weight"])
        self.pos = f32(w[p + "embed_positions.weight"])
        self.project_in = opt_tensor(w, p + "project_in.weight")
        self.project_out = opt_tensor(w, p + "project_out.weight")
        if (self.project_in is None) != (self.embed.shape[1] == self.D):
            raise SystemExit("OPT: project_in must be present exactly when word_embed_proj_dim != hidden_size")
        # The decoder's final_layer_norm exists only with pre-LN blocks (OPTDecoder).
        self.final = self.pre and not cfg.get("_remove_final_layer_norm", False)
        self.final_w = opt_tensor(w, p + "final_layer_norm.weight") if self.final else None
        self.final_b = opt_tensor(w, p + "final_layer_norm.bias") if self.final else None
        self.layers = []
        for l in range(self.L):
            q = f"{p}layers.{l}."
            d = {}
            for k in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "fc1", "fc2",
                      "self_attn_layer_norm", "final_layer_norm"):
                d[k] = opt_tensor(w, q + k + ".weight")
                d[k + ".bias"] = opt_tensor(w, q + k + ".bias")
            self.layers.append(d)
        self.head = self.embed if cfg.get("tie_word_embeddings", True) else f32(w["lm_head.weight"])

    def ln(self, x, w, b):
        return F.layer_norm(x, (x.shape[-1],), w, b, self.eps)

    def forward(self, ids):
        B, T = ids.shape
        D, H = self.D, self.H
        hd = D // H
        mask = additive_mask(T)
        x = self.embed[ids].view(B * T, -1)
        if self.project_in is not None:
            x = F.linear(x, self.project_in)
        x = (x.view(B, T, D) + self.pos[2:T + 2]).view(B * T, D)
        for w in self.layers:
            h = self.ln(x, w["self_attn_layer_norm"], w["self_attn_layer_norm.bias"]) if self.pre else x
            q = F.linear(h, w["self_attn.q_proj"], w["self_attn.q_proj.bias"]) * hd ** -0.5
            k = F.linear(h, w["self_attn.k_proj"], w["self_attn.k_proj.bias"])
            v = F.linear(h, w["self_attn.v_proj"], w["self_attn.v_proj.bias"])
            q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
            y = attend(q, k, v, mask, 1.0)
            x = x + F.linear(y, w["self_attn.out_proj"], w["self_attn.out_proj.bias"])
            if not self.pre:
                x = self.ln(x, w["self_attn_layer_norm"], w["self_attn_layer_norm.bias"])
            h = self.ln(x, w["final_layer_norm"], w["final_layer_norm.bias"]) if self.pre else x
            m = F.linear(self.act(F.linear(h, w["fc1"], w["fc1.bias"])), w["fc2"], w["fc2.bias"])
            x = x + m
            if not self.pre:
                x = self.ln(x, w["final_layer_norm"], w["final_layer_norm.bias"])
        if self.final:
            x = self.ln(x, self.final_w, self.final_b)
        if self.project_out is not None:
            x = F.linear(x, self.project_out)
        return F.linear(x, self.head)  # [B*T, V]


class GptNeo:
    """GPTNeoForCausalLM: learned positions, global/local (window_size) layers, unscaled scores,
    q/k/v without bias, tied head."""

    def __init__(self, cfg, w):
        self.D = cfg["hidden_size"]
        self.H = cfg["num_heads"]
        self.L = cfg["num_layers"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.act = activation(cfg.get("activation_function", "gelu_new"))
        kinds = cfg.get("attention_layers")
        if not kinds:
            kinds = [k for pattern, n in cfg["attention_types"] for _ in range(n) for k in pattern]
        self.windows = [cfg["window_size"] if k == "local" else None for k in kinds[:self.L]]
        p = find_prefix(w, "wte.weight", ("transformer.", ""))
        self.wte = f32(w[p + "wte.weight"])
        self.wpe = f32(w[p + "wpe.weight"])
        self.layers = []
        for l in range(self.L):
            q = f"{p}h.{l}."
            d = {k: f32(w[q + k]) for k in (
                "ln_1.weight", "ln_1.bias", "attn.attention.q_proj.weight", "attn.attention.k_proj.weight",
                "attn.attention.v_proj.weight", "attn.attention.out_proj.weight", "attn.attention.out_proj.bias",
                "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")}
            self.layers.append(d)
        self.lnf_w = f32(w[p + "ln_f.weight"])
        self.lnf_b = f32(w[p + "ln_f.bias"])

    def forward(self, ids):
        B, T = ids.shape
        D, H = self.D, self.H
        hd = D // H
        masks = {win: additive_mask(T, win) for win in set(self.windows)}
        x = (self.wte[ids] + self.wpe[:T]).view(B * T, D)
        for w, win in zip(self.layers, self.windows):
            h = F.layer_norm(x, (D,), w["ln_1.weight"], w["ln_1.bias"], self.eps)
            q, k, v = (F.linear(h, w[f"attn.attention.{n}_proj.weight"]).view(B, T, H, hd).transpose(1, 2)
                       for n in ("q", "k", "v"))
            y = attend(q, k, v, masks[win], 1.0)
            x = x + F.linear(y, w["attn.attention.out_proj.weight"], w["attn.attention.out_proj.bias"])
            h = F.layer_norm(x, (D,), w["ln_2.weight"], w["ln_2.bias"], self.eps)
            x = x + F.linear(self.act(F.linear(h, w["mlp.c_fc.weight"], w["mlp.c_fc.bias"])),
                             w["mlp.c_proj.weight"], w["mlp.c_proj.bias"])
        x = F.layer_norm(x, (D,), self.lnf_w, self.lnf_b, self.eps)
        return F.linear(x, self.wte)  # [B*T, V], tied head


class GptJ:
    """GPTJForCausalLM: interleaved-pair rotary on the first rotary_dim dims of each head, one ln_1
    feeding attention and MLP in parallel, untied lm_head with bias."""

    def __init__(self, cfg, w):
        self.D = cfg["n_embd"]
        self.H = cfg["n_head"]
        self.L = cfg["n_layer"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.act = activation(cfg.get("activation_function", "gelu_new"))
        hd = self.D // self.H
        self.rot = cfg.get("rotary_dim") or hd
        p = find_prefix(w, "wte.weight", ("transformer.", ""))
        self.wte = f32(w[p + "wte.weight"])
        self.layers = []
        for l in range(self.L):
            q = f"{p}h.{l}."
            d = {k: f32(w[q + k]) for k in (
                "ln_1.weight", "ln_1.bias", "attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight",
                "attn.out_proj.weight", "mlp.fc_in.weight", "mlp.fc_in.bias", "mlp.fc_out.weight", "mlp.fc_out.bias")}
            self.layers.append(d)
        self.lnf_w = f32(w[p + "ln_f.weight"])
        self.lnf_b = f32(w[p + "ln_f.bias"])
        tied = cfg.get("tie_word_embeddings", False)
        self.head = self.wte if tied else f32(w["lm_head.weight"])
        self.head_b = opt_tensor(w, "lm_head.bias")

    @staticmethod
    def rotate_every_two(x):
        return torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)

    def forward(self, ids):
        B, T = ids.shape
        D, H = self.D, self.H
        hd = D // H
        rd = self.rot
        inv = 1.0 / (10000 ** (torch.arange(0, rd, 2, dtype=torch.int64) / rd))
        f = torch.outer(torch.arange(T, dtype=torch.float32), inv.float())  # [T, rd/2]
        sin = torch.repeat_interleave(f.sin(), 2, dim=-1).view(T, 1, rd)  # [T, 1, rd] for [B, T, H, rd]
        cos = torch.repeat_interleave(f.cos(), 2, dim=-1).view(T, 1, rd)
        mask = additive_mask(T)
        x = self.wte[ids].view(B * T, D)
        for w in self.layers:
            h = F.layer_norm(x, (D,), w["ln_1.weight"], w["ln_1.bias"], self.eps)
            q = F.linear(h, w["attn.q_proj.weight"]).view(B, T, H, hd)
            k = F.linear(h, w["attn.k_proj.weight"]).view(B, T, H, hd)
            v = F.linear(h, w["attn.v_proj.weight"]).view(B, T, H, hd).transpose(1, 2)
            if rd < hd:
                q = torch.cat((q[..., :rd] * cos + self.rotate_every_two(q[..., :rd]) * sin, q[..., rd:]), dim=-1)
                k = torch.cat((k[..., :rd] * cos + self.rotate_every_two(k[..., :rd]) * sin, k[..., rd:]), dim=-1)
            else:
                q = q * cos + self.rotate_every_two(q) * sin
                k = k * cos + self.rotate_every_two(k) * sin
            y = attend(q.transpose(1, 2), k.transpose(1, 2), v, mask, 1.0 / math.sqrt(hd))
            a = F.linear(y, w["attn.out_proj.weight"])
            m = F.linear(self.act(F.linear(h, w["mlp.fc_in.weight"], w["mlp.fc_in.bias"])),
                         w["mlp.fc_out.weight"], w["mlp.fc_out.bias"])
            x = x + a + m
        x = F.layer_norm(x, (D,), self.lnf_w, self.lnf_b, self.eps)
        return F.linear(x, self.head, self.head_b)  # [B*T, V]


FAMILIES = {
    "gpt2": Gpt2, "gpt_neox": GptNeoX, "llama": LlamaLike, "mistral": LlamaLike, "qwen2": LlamaLike,
    "qwen3": LlamaLike, "olmo2": LlamaLike, "opt": Opt, "gpt_neo": GptNeo, "gptj": GptJ,
}


def read_checkpoint(model_dir):
    """model.safetensors, or the shards of model.safetensors.index.json."""
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single) or not os.path.exists(index):
        return read_safetensors(single)[0]
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    w = {}
    for s in shards:
        w.update(read_safetensors(os.path.join(model_dir, s))[0])
    return w


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = read_checkpoint(model_dir)
    cls = FAMILIES.get(cfg.get("model_type"))
    if cls is None:
        raise SystemExit(f"{model_dir}: unsupported model_type {cfg.get('model_type')} "
                         f"(supported: {', '.join(sorted(FAMILIES))})")
    return cls(cfg, w), cfg


def score_sorted_batches(model, sequences, batch, pad_id):
    """Scores sequences the way a careful transformers user does: sorted by length, cut into
    right-padded batches of `batch`, logits at every position, log-softmax in float64 at the
    measured positions only. sequences: [(ids, first)], the tokens ids[first:] measured (first >= 1).
    With right padding and causal attention no real position sees a pad, so `pad_id` never matters.
    Returns ([(entropy_bits list, surprisal_bits list)] in input order, padded positions)."""
    import torch
    ln2 = math.log(2.0)
    order = sorted(range(len(sequences)), key=lambda j: len(sequences[j][0]))  # stable: ties keep input order
    out = [None] * len(sequences)
    padded = 0
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            js = order[s:s + batch]
            T = max(len(sequences[j][0]) for j in js)
            padded += len(js) * T
            ids = torch.full((len(js), T), pad_id, dtype=torch.int64)
            rows, tgts, spans = [], [], []
            for r, j in enumerate(js):
                seq, first = sequences[j]
                ids[r, :len(seq)] = torch.tensor(seq, dtype=torch.int64)
                spans.append((len(rows), len(seq) - first))
                rows.extend(range(r * T + first - 1, r * T + len(seq) - 1))  # position p - 1 predicts token p
                tgts.extend(seq[first:])
            logits = model.forward(ids)  # [B*T, V] fp32, every position
            lp = torch.log_softmax(logits[torch.tensor(rows)].double(), dim=-1)
            ent = (-(lp.exp() * lp).sum(dim=-1) / ln2).tolist()
            sur = (-lp.gather(1, torch.tensor(tgts).unsqueeze(1)).squeeze(1) / ln2).tolist()
            for j, (o, m) in zip(js, spans):
                out[j] = (ent[o:o + m], sur[o:o + m])
    return out, padded


def page_in(model):
    """Reads every weight tensor of a loaded model once (the memory-mapped pages come in, as after
    from_pretrained's load); returns how many elements were touched."""
    import torch
    touched = 0

    def touch(v):
        nonlocal touched
        if isinstance(v, torch.Tensor):
            touched += int(v.numel())
            v.sum()
        elif isinstance(v, dict):
            for x in v.values():
                touch(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                touch(x)
    touch(vars(model))
    return touched


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


def to_device(model, device):
    """Moves every tensor a loaded model holds to `device`, where its forward then runs."""
    def move(v):
        if isinstance(v, torch.Tensor):
            return v.to(device)
        if isinstance(v, dict):
            return {k: move(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(move(x) for x in v)
        return v
    for name, value in list(vars(model).items()):
        setattr(model, name, move(value))


def cmd_bench(args):
    cuda = args.device == "cuda"
    if cuda:
        # fp32 arithmetic in the matrix products, as entroscope's CUDA backend (no TF32).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_default_device("cuda")  # the masks and tables the forwards make go there too
    t0 = time.perf_counter()
    model, cfg = load_model(args.model)
    ids = load_ids(args.ids)
    if cuda:
        to_device(model, "cuda")
        ids = ids.to("cuda")
        torch.cuda.synchronize()
    load_s = time.perf_counter() - t0
    B, T = ids.shape
    chunk_rows = 4096 if cuda else 128  # the reduction's rows per step: the GPU wants large steps
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    warm, times = [], []
    with torch.inference_mode():
        for _ in range(args.warmup):
            t0 = time.perf_counter()
            ent, sur = score(model, ids, chunk_rows)
            sync()
            warm.append(time.perf_counter() - t0)
        for _ in range(args.reps):
            t0 = time.perf_counter()
            ent, sur = score(model, ids, chunk_rows)
            sync()
            times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    med = sorted(times)[len(times) // 2] if len(times) % 2 else 0.5 * sum(sorted(times)[len(times) // 2 - 1:len(times) // 2 + 1])
    out = {
        "command": "torch_ref bench",
        "model": os.path.basename(os.path.normpath(args.model)),
        "model_type": cfg["model_type"],
        "batch": B, "tokens": T,
        "torch": torch.__version__,
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if cuda else "",
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 1e6 if cuda else 0.0,
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
    b.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cuda: the GPU, fp32 without TF32")
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
