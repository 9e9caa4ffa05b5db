#!/usr/bin/env python3
"""Config-variant golden fixtures for entroscope (tests/data/models/variants/<name>/).

Each fixture is a tiny random-weight GPT-2 or GPT-NeoX checkpoint in Hugging Face layout that
differs from a common baseline in exactly one config branch (see VARIANTS below), plus float64
goldens in the same format as tests/data/models/*/expected.safetensors.

The reference is an independent float64 PyTorch re-implementation of transformers'
GPT2LMHeadModel / GPTNeoXForCausalLM (eval mode, eager attention, causal mask, no padding,
position ids 0..T-1), following the semantics written down in tests/data/models/README.md.
A second, loop-based numpy implementation (verify()) recomputes every golden from the files as
re-read from disk and must agree to ~1e-12.

Usage (Debian's python3-torch; no transformers / safetensors packages needed):
    /usr/bin/python3 tools/variant_fixtures/gen.py            # generate + verify
    /usr/bin/python3 tools/variant_fixtures/gen.py --verify   # only re-verify the written files
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
OUT_ROOT = REPO / "tests" / "data" / "models" / "variants"
LN2 = math.log(2.0)
B, T = 2, 64  # batch rows, sequence length (= n_positions: the full context is used)

# ----------------------------------------------------------------------------------------------
# safetensors (hand-written; format as in tests/data/models/README.md)

_NP = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "I64": np.dtype("<i8"),
       "U8": np.dtype("u1"), "BOOL": np.dtype("?")}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, np.ndarray]]) -> int:
    """tensors: name -> (dtype string, array). Layout like the Rust writer: larger dtypes first,
    then by name; header padded with spaces to a multiple of 8. Returns the data-section offset."""
    order = sorted(tensors, key=lambda n: (-_NP[tensors[n][0]].itemsize, n))
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in order:
        dt, arr = tensors[name]
        a = np.ascontiguousarray(np.asarray(arr).astype(_NP[dt], copy=False))
        raw = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-(8 + len(h))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)
    return 8 + len(h)


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Returns (name -> numpy array (copied, native dtype), header). Validates offsets."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short")
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n].decode())
    body = memoryview(data)[8 + n:]
    out = {}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _NP[info["dtype"]]
        shape = tuple(info["shape"])
        b0, b1 = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= b0 <= b1 <= len(body)) or b1 - b0 != count * dt.itemsize:
            raise ValueError(f"{path}: bad offsets for {name}")
        spans.append((b0, b1))
        out[name] = np.frombuffer(body[b0:b1], dtype=dt).reshape(shape).copy()
    spans.sort()
    pos = 0
    for b0, b1 in spans:  # contiguous, no holes/overlaps, covering the data section
        if b0 != pos:
            raise ValueError(f"{path}: data section has a hole/overlap at {b0}")
        pos = b1
    if pos != len(body):
        raise ValueError(f"{path}: {len(body) - pos} trailing bytes")
    return out, header


# ----------------------------------------------------------------------------------------------
# Variants. Each differs from its architecture's baseline in one branch.

GPT2_BASE = dict(vocab_size=256, n_positions=64, n_embd=32, n_head=4, n_layer=2, n_inner=None,
                 activation_function="gelu_new", layer_norm_epsilon=1e-5, scale_attn_weights=True,
                 scale_attn_by_inverse_layer_idx=False)
NEOX_BASE = dict(vocab_size=256, max_position_embeddings=64, hidden_size=32, num_attention_heads=2,
                 num_hidden_layers=2, intermediate_size=128, hidden_act="gelu", layer_norm_eps=1e-5,
                 rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True,
                 tie_word_embeddings=False, attention_bias=True)

VARIANTS = [
    dict(name="gpt2-scale-inv-layer-idx", arch="gpt2", seed=101, layout="save_pretrained_cfg",
         cfg=dict(scale_attn_by_inverse_layer_idx=True, n_layer=3),
         flag=("scale_attn_by_inverse_layer_idx", False),
         about="GPT-2 with scale_attn_by_inverse_layer_idx true: attention scores are divided by "
               "sqrt(head_dim) and additionally by (layer_idx + 1), 0-based (layers 0,1,2 -> /1,/2,/3). "
               "3 layers so that the per-layer factor differs from 1 twice. Hub key names (no "
               "'transformer.' prefix, no mask buffers), save_pretrained-style config.json (scale_attn_* keys)."),
    dict(name="gpt2-no-scale-attn-weights", arch="gpt2", seed=102, layout="save_pretrained_cfg",
         cfg=dict(scale_attn_weights=False),
         flag=("scale_attn_weights", True),
         about="GPT-2 with scale_attn_weights false: raw q.k scores, no 1/sqrt(head_dim) (eager path; "
               "transformers' SDPA path ignores the flag). Hub key names (no prefix, no mask buffers), "
               "save_pretrained-style config.json."),
    dict(name="gpt2-gelu-erf", arch="gpt2", seed=103, layout="hub_cfg",
         cfg=dict(activation_function="gelu"),
         flag=("activation_function", "gelu_new"),
         about="GPT-2 with activation_function \"gelu\": the exact erf GELU, 0.5x(1+erf(x/sqrt2)), "
               "instead of GPT-2's default tanh form gelu_new. Hub file layout (no prefix, F32 h.N.attn.bias "
               "mask buffers [1,1,64,64] to ignore) and hub-style config.json."),
    dict(name="gpt2-n-inner", arch="gpt2", seed=104, layout="hub_cfg",
         cfg=dict(n_inner=96),
         flag=None,
         about="GPT-2 with n_inner = 3 * n_embd = 96 (not the default 4 * n_embd): c_fc.weight is "
               "[32, 96], mlp.c_proj.weight [96, 32]. Hub file layout (no prefix, F32 h.N.attn.bias mask "
               "buffers to ignore) and hub-style config.json with n_inner set."),
    dict(name="neox-sequential-residual", arch="gpt_neox", seed=201, layout="pythia",
         cfg=dict(use_parallel_residual=False),
         flag=("use_parallel_residual", True),
         about="GPT-NeoX with use_parallel_residual false: h = x + attn(input_layernorm(x)); "
               "x = h + mlp(post_attention_layernorm(h)). Pythia-hub layout incl. the old persistent "
               "buffers attention.bias (U8), masked_bias (F32 []), rotary_emb.inv_freq (F32) to ignore."),
    dict(name="neox-rotary-full", arch="gpt_neox", seed=202, layout="pythia",
         cfg=dict(rotary_pct=1.0),
         flag=("rotary_pct", 0.25),
         about="GPT-NeoX with rotary_pct 1.0: rotary (rotate_half) on all 16 dims of each q/k head, "
               "no pass-through part. Pythia-hub layout incl. old buffers (inv_freq F32 [8])."),
    dict(name="neox-rotary-base500", arch="gpt_neox", seed=203, layout="pythia",
         cfg=dict(rotary_emb_base=500, rotary_pct=0.5),
         flag=("rotary_emb_base", 10000),
         about="GPT-NeoX with rotary_emb_base 500 (inv_freq = 1/500^(arange(0,rd,2)/rd)); rotary_pct "
               "0.5 so that rd = 8 dims (4 frequencies) of each 16-dim head rotate. Pythia-hub layout "
               "incl. old buffers (inv_freq F32 [4] computed with base 500)."),
    dict(name="neox-gelu-new", arch="gpt_neox", seed=204, layout="pythia",
         cfg=dict(hidden_act="gelu_new"),
         flag=("hidden_act", "gelu"),
         about="GPT-NeoX with hidden_act \"gelu_new\": the tanh-form GELU 0.5x(1+tanh(sqrt(2/pi)"
               "(x+0.044715x^3))) instead of NeoX's default exact erf gelu. Pythia-hub layout incl. old buffers."),
    dict(name="neox-tied-embeddings", arch="gpt_neox", seed=205, layout="save_pretrained",
         cfg=dict(tie_word_embeddings=True),
         flag=None,
         about="GPT-NeoX with tie_word_embeddings true: the LM head is gpt_neox.embed_in.weight; the "
               "checkpoint has no embed_out.weight key (save_pretrained drops the shared tensor). "
               "save_pretrained (4.44) file layout: no persistent buffers."),
    dict(name="neox-no-attention-bias", arch="gpt_neox", seed=206, layout="save_pretrained",
         cfg=dict(attention_bias=False),
         flag=None,
         about="GPT-NeoX with attention_bias false: query_key_value and attention.dense have no bias "
               "(no .bias keys in the checkpoint); the MLP Linears keep theirs. save_pretrained (4.44) "
               "file layout: no persistent buffers."),
]


def full_config(v: dict) -> dict:
    base = GPT2_BASE if v["arch"] == "gpt2" else NEOX_BASE
    c = dict(base)
    c.update(v["cfg"])
    return c


def config_json(v: dict) -> dict:
    c = full_config(v)
    if v["arch"] == "gpt2":
        V = c["vocab_size"]
        d = {
            "activation_function": c["activation_function"], "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.1, "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1,
            "initializer_range": 0.02, "layer_norm_epsilon": c["layer_norm_epsilon"], "model_type": "gpt2",
            "n_embd": c["n_embd"], "n_head": c["n_head"], "n_layer": c["n_layer"],
            "n_positions": c["n_positions"], "resid_pdrop": 0.1, "summary_activation": None,
            "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
            "summary_use_proj": True, "torch_dtype": "float32", "vocab_size": V,
        }
        if v["layout"] == "hub_cfg":  # like openai-community/gpt2's config.json
            d["n_ctx"] = c["n_positions"]
            d["task_specific_params"] = {"text-generation": {"do_sample": True, "max_length": 50}}
            if c["n_inner"] is not None:
                d["n_inner"] = c["n_inner"]
        else:  # GPT2LMHeadModel.save_pretrained
            d.update({"n_inner": c["n_inner"], "reorder_and_upcast_attn": False,
                      "scale_attn_by_inverse_layer_idx": c["scale_attn_by_inverse_layer_idx"],
                      "scale_attn_weights": c["scale_attn_weights"], "transformers_version": "4.44.2",
                      "use_cache": True})
        return d
    d = {
        "architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0,
        "hidden_act": c["hidden_act"], "hidden_size": c["hidden_size"], "initializer_range": 0.02,
        "intermediate_size": c["intermediate_size"], "layer_norm_eps": c["layer_norm_eps"],
        "max_position_embeddings": c["max_position_embeddings"], "model_type": "gpt_neox",
        "num_attention_heads": c["num_attention_heads"], "num_hidden_layers": c["num_hidden_layers"],
        "rotary_emb_base": c["rotary_emb_base"], "rotary_pct": c["rotary_pct"],
        "tie_word_embeddings": c["tie_word_embeddings"], "torch_dtype": "float32",
        "use_cache": True, "use_parallel_residual": c["use_parallel_residual"], "vocab_size": c["vocab_size"],
    }
    if v["layout"] == "pythia":
        d["transformers_version"] = "4.24.0"
        assert c["attention_bias"]
    else:
        d.update({"attention_bias": c["attention_bias"], "attention_dropout": 0.0, "classifier_dropout": 0.1,
                  "hidden_dropout": 0.0, "rope_scaling": None, "transformers_version": "4.44.2"})
    return d


# ----------------------------------------------------------------------------------------------
# Weights and inputs

def make_weights(v: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """float64 master weights (rounded to float32 when written). Deliberately not tiny-std."""
    c = full_config(v)
    N = lambda *shape: rng.standard_normal(shape)
    w = {}
    if v["arch"] == "gpt2":
        V, P, D, L = c["vocab_size"], c["n_positions"], c["n_embd"], c["n_layer"]
        F = c["n_inner"] or 4 * D
        w["wte.weight"] = 0.45 * N(V, D)
        w["wpe.weight"] = 0.30 * N(P, D)
        for l in range(L):
            p = f"h.{l}."
            w[p + "ln_1.weight"] = 1.0 + 0.25 * N(D)
            w[p + "ln_1.bias"] = 0.10 * N(D)
            w[p + "attn.c_attn.weight"] = 1.75 / math.sqrt(D) * N(D, 3 * D)  # Conv1D [in, out]
            w[p + "attn.c_attn.bias"] = 0.20 * N(3 * D)
            w[p + "attn.c_proj.weight"] = 1.30 / math.sqrt(D) * N(D, D)
            w[p + "attn.c_proj.bias"] = 0.10 * N(D)
            w[p + "ln_2.weight"] = 1.0 + 0.22 * N(D)
            w[p + "ln_2.bias"] = 0.10 * N(D)
            w[p + "mlp.c_fc.weight"] = 1.60 / math.sqrt(D) * N(D, F)
            w[p + "mlp.c_fc.bias"] = 0.30 * N(F)
            w[p + "mlp.c_proj.weight"] = 1.90 / math.sqrt(F) * N(F, D)
            w[p + "mlp.c_proj.bias"] = 0.10 * N(D)
        w["ln_f.weight"] = 1.0 + 0.45 * N(D)
        w["ln_f.bias"] = 0.13 * N(D)
        w["wte.weight"] *= head_scales(rng, V, D)
        return w
    V, D, L, F = c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["intermediate_size"]
    w["gpt_neox.embed_in.weight"] = 0.66 * N(V, D)
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        w[p + "input_layernorm.weight"] = 1.0 + 0.25 * N(D)
        w[p + "input_layernorm.bias"] = 0.10 * N(D)
        w[p + "attention.query_key_value.weight"] = 1.75 / math.sqrt(D) * N(3 * D, D)  # Linear [out, in]
        w[p + "attention.dense.weight"] = 1.30 / math.sqrt(D) * N(D, D)
        if c["attention_bias"]:
            w[p + "attention.query_key_value.bias"] = 0.20 * N(3 * D)
            w[p + "attention.dense.bias"] = 0.10 * N(D)
        w[p + "post_attention_layernorm.weight"] = 1.0 + 0.22 * N(D)
        w[p + "post_attention_layernorm.bias"] = 0.10 * N(D)
        w[p + "mlp.dense_h_to_4h.weight"] = 1.60 / math.sqrt(D) * N(F, D)
        w[p + "mlp.dense_h_to_4h.bias"] = 0.30 * N(F)
        w[p + "mlp.dense_4h_to_h.weight"] = 1.90 / math.sqrt(F) * N(D, F)
        w[p + "mlp.dense_4h_to_h.bias"] = 0.10 * N(D)
    w["gpt_neox.final_layer_norm.weight"] = 1.0 + 0.45 * N(D)
    w["gpt_neox.final_layer_norm.bias"] = 0.10 * N(D)
    if not c["tie_word_embeddings"]:
        w["embed_out.weight"] = 0.40 * N(V, D)
    w["gpt_neox.embed_in.weight" if c["tie_word_embeddings"] else "embed_out.weight"] *= head_scales(rng, V, D)
    return w


def head_scales(rng, V, D):
    """Per-dimension (lognormal 0.8) and per-token (lognormal 0.5) scales of the LM-head matrix: makes the
    next-token distributions varied (entropies from ~0 to ~7 bits with median 4, like the existing fixtures)."""
    return np.exp(0.8 * rng.standard_normal(D))[None, :] * np.exp(0.5 * rng.standard_normal(V))[:, None]


def final_norm_keys(v):
    return ("ln_f.weight", "ln_f.bias") if v["arch"] == "gpt2" else (
        "gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias")


def make_inputs(V: int, rng: np.random.Generator) -> np.ndarray:
    """B rows of T ids in [0, V): each contains token 0, token V-1 and a repeated segment."""
    ids = rng.integers(1, V - 1, size=(B, T))
    ids[0, 0], ids[0, 5] = V - 1, 0
    ids[1, 3], ids[1, 50] = 0, V - 1
    ids[0, 40:52] = ids[0, 10:22]  # repeated segment (induction-style repeat)
    ids[1, 30:46] = ids[1, 8:24]
    ids[1, 60:64] = ids[1, 56:60]
    return ids.astype(np.int64)


def buffers(v: dict) -> dict[str, tuple[str, np.ndarray]]:
    """Persistent buffers present in the hub layout, to be ignored by a loader."""
    c = full_config(v)
    out = {}
    if v["arch"] == "gpt2":
        if v["layout"] != "hub_cfg":
            return out  # like a hub file re-saved without the non-persistent mask buffers
        P = c["n_positions"]
        mask = np.tril(np.ones((P, P), dtype=np.float32)).reshape(1, 1, P, P)
        for l in range(c["n_layer"]):
            out[f"h.{l}.attn.bias"] = ("F32", mask)
        return out
    if v["layout"] != "pythia":
        return out
    P = c["max_position_embeddings"]
    hs = c["hidden_size"] // c["num_attention_heads"]
    rd = int(hs * c["rotary_pct"])
    inv = (1.0 / (c["rotary_emb_base"] ** (torch.arange(0, rd, 2).float() / rd))).numpy()  # as HF stored it
    mask = np.tril(np.ones((P, P), dtype=np.uint8)).reshape(1, 1, P, P)
    for l in range(c["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}.attention."
        out[p + "bias"] = ("U8", mask)
        out[p + "masked_bias"] = ("F32", np.array(-1e9, dtype=np.float32))
        out[p + "rotary_emb.inv_freq"] = ("F32", inv.astype(np.float32))
    return out


# ----------------------------------------------------------------------------------------------
# Reference forward (torch; float64 for the goldens, float32 for the error measurement)

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def act_fn(name):
    if name == "gelu":
        return gelu_erf
    if name in ("gelu_new", "gelu_fast", "gelu_pytorch_tanh"):
        return gelu_new
    raise ValueError(name)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased variance
    return (x - mu) / torch.sqrt(var + eps) * w + b


def causal_softmax_attend(q, k, v, scale_div):
    """q, k, v: [B, H, T, hs]; scores = q k^T / scale_div (scale_div a python float or list)."""
    Tq = q.shape[-2]
    s = torch.matmul(q, k.transpose(-1, -2))
    for d in scale_div:
        s = s / d
    mask = torch.ones(Tq, Tq, dtype=torch.bool).tril()
    s = s.masked_fill(~mask, float("-inf"))
    return torch.matmul(torch.softmax(s, dim=-1), v)


def gpt2_forward(c: dict, W: dict, ids: np.ndarray, dtype=torch.float64):
    g = lambda k: torch.from_numpy(np.asarray(W[k])).to(dtype)
    Bn, Tn = ids.shape
    D, H, L = c["n_embd"], c["n_head"], c["n_layer"]
    hs = D // H
    eps = c["layer_norm_epsilon"]
    act = act_fn(c["activation_function"])
    idx = torch.from_numpy(ids)
    x = g("wte.weight")[idx] + g("wpe.weight")[:Tn]
    hidden = [x]
    for l in range(L):
        p = f"h.{l}."
        h = layer_norm(x, g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
        qkv = h @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias")  # Conv1D: x @ W + b
        q, k, v = qkv.split(D, dim=-1)  # three contiguous blocks
        heads = lambda t: t.reshape(Bn, Tn, H, hs).permute(0, 2, 1, 3)
        div = []
        if c["scale_attn_weights"]:
            div.append(float(hs) ** 0.5)
        if c["scale_attn_by_inverse_layer_idx"]:
            div.append(float(l + 1))
        a = causal_softmax_attend(heads(q), heads(k), heads(v), div)
        a = a.permute(0, 2, 1, 3).reshape(Bn, Tn, D)
        x = x + (a @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias"))
        h = layer_norm(x, g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
        m = act(h @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias"))
        x = x + (m @ g(p + "mlp.c_proj.weight") + g(p + "mlp.c_proj.bias"))
        if l + 1 < L:
            hidden.append(x)
    xf = layer_norm(x, g("ln_f.weight"), g("ln_f.bias"), eps)
    hidden.append(xf)
    logits = xf @ g("wte.weight").T  # tied
    return logits, hidden


def rotary_cos_sin(Tn, rd, base, dtype, tables="exact"):
    """cos/sin of emb = cat(pos*inv_freq, pos*inv_freq): [T, rd].
    tables="exact": computed in `dtype`; "hf32": transformers-style float32 tables (for dtype f32)."""
    if tables == "hf32":
        inv = 1.0 / (base ** (torch.arange(0, rd, 2, dtype=torch.int64).float() / rd))
        t = torch.arange(Tn, dtype=torch.int64).type_as(inv)
        freqs = torch.outer(t, inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()
    inv = 1.0 / (float(base) ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd))
    t = torch.arange(Tn, dtype=torch.float64)
    freqs = torch.outer(t, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    n = x.shape[-1] // 2
    return torch.cat((-x[..., n:], x[..., :n]), dim=-1)


def neox_forward(c: dict, W: dict, ids: np.ndarray, dtype=torch.float64, tables="exact"):
    g = lambda k: torch.from_numpy(np.asarray(W[k])).to(dtype)
    Bn, Tn = ids.shape
    D, H, L = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"]
    hs = D // H
    rd = int(hs * c["rotary_pct"])
    eps = c["layer_norm_eps"]
    act = act_fn(c["hidden_act"])
    cos, sin = rotary_cos_sin(Tn, rd, c["rotary_emb_base"], dtype, tables)
    idx = torch.from_numpy(ids)
    x = g("gpt_neox.embed_in.weight")[idx]
    hidden = [x]

    def linear(inp, name, bias=True):
        y = inp @ g(name + ".weight").T  # nn.Linear: W [out, in]
        return y + g(name + ".bias") if bias else y

    for l in range(L):
        p = f"gpt_neox.layers.{l}."

        def attn(inp):
            qkv = linear(inp, p + "attention.query_key_value", c["attention_bias"])
            qkv = qkv.reshape(Bn, Tn, H, 3 * hs)  # per head [q k v]
            q = qkv[..., :hs].permute(0, 2, 1, 3)
            k = qkv[..., hs:2 * hs].permute(0, 2, 1, 3)
            v = qkv[..., 2 * hs:].permute(0, 2, 1, 3)
            if rd > 0:
                q = torch.cat((q[..., :rd] * cos + rotate_half(q[..., :rd]) * sin, q[..., rd:]), dim=-1)
                k = torch.cat((k[..., :rd] * cos + rotate_half(k[..., :rd]) * sin, k[..., rd:]), dim=-1)
            a = causal_softmax_attend(q, k, v, [float(hs) ** 0.5])
            a = a.permute(0, 2, 1, 3).reshape(Bn, Tn, D)
            return linear(a, p + "attention.dense", c["attention_bias"])

        def mlp(inp):
            return linear(act(linear(inp, p + "mlp.dense_h_to_4h")), p + "mlp.dense_4h_to_h")

        ln1 = layer_norm(x, g(p + "input_layernorm.weight"), g(p + "input_layernorm.bias"), eps)
        a = attn(ln1)
        if c["use_parallel_residual"]:
            m = mlp(layer_norm(x, g(p + "post_attention_layernorm.weight"), g(p + "post_attention_layernorm.bias"), eps))
            x = m + a + x
        else:
            h = a + x
            m = mlp(layer_norm(h, g(p + "post_attention_layernorm.weight"), g(p + "post_attention_layernorm.bias"), eps))
            x = m + h
        if l + 1 < L:
            hidden.append(x)
    xf = layer_norm(x, g("gpt_neox.final_layer_norm.weight"), g("gpt_neox.final_layer_norm.bias"), eps)
    hidden.append(xf)
    head = g("gpt_neox.embed_in.weight") if c["tie_word_embeddings"] else g("embed_out.weight")
    return xf @ head.T, hidden


def forward(v_or_arch, c, W, ids, dtype=torch.float64, tables="exact"):
    arch = v_or_arch if isinstance(v_or_arch, str) else v_or_arch["arch"]
    if arch == "gpt2":
        return gpt2_forward(c, W, ids, dtype)
    return neox_forward(c, W, ids, dtype, tables)


def entropy_surprisal(logits: torch.Tensor, ids: np.ndarray):
    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    ent = -(torch.where(p > 0, p * logp, torch.zeros_like(p))).sum(-1) / LN2
    nxt = torch.from_numpy(ids[:, 1:]).unsqueeze(-1)
    sur = -logp[:, :-1].gather(-1, nxt).squeeze(-1) / LN2
    return ent, sur


# ----------------------------------------------------------------------------------------------
# Second, loop-based numpy float64 implementation used by verify()

def np_ln(x, w, b, eps):
    out = np.empty_like(x)
    for r in range(x.shape[0]):
        m = sum(x[r]) / x.shape[1]
        var = sum((x[r] - m) ** 2) / x.shape[1]
        out[r] = (x[r] - m) / math.sqrt(var + eps) * w + b
    return out


def np_gelu(name, x):
    if name == "gelu":
        from math import erf
        return np.vectorize(lambda u: 0.5 * u * (1.0 + erf(u / math.sqrt(2.0))))(x)
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def np_attention(q, k, v, scale):
    """q, k, v: [T, hs] of one head; explicit causal loop."""
    Tn, hs = q.shape
    out = np.zeros((Tn, hs))
    for t in range(Tn):
        s = np.array([float(np.dot(q[t], k[j])) * scale for j in range(t + 1)])
        e = np.exp(s - s.max())
        out[t] = (e[:, None] * v[:t + 1]).sum(0) / e.sum()
    return out


def np_forward(arch, c, W, ids_row):
    """One sequence [T] -> logits [T, V], hidden list of [T, D] (float64)."""
    W = {k: np.asarray(a, dtype=np.float64) for k, a in W.items()}
    Tn = len(ids_row)
    if arch == "gpt2":
        D, H, L, eps = c["n_embd"], c["n_head"], c["n_layer"], c["layer_norm_epsilon"]
        hs = D // H
        x = np.stack([W["wte.weight"][i] + W["wpe.weight"][t] for t, i in enumerate(ids_row)])
        hidden = [x.copy()]
        for l in range(L):
            p = f"h.{l}."
            h = np_ln(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
            Wa, ba = W[p + "attn.c_attn.weight"], W[p + "attn.c_attn.bias"]
            scale = 1.0
            if c["scale_attn_weights"]:
                scale /= math.sqrt(hs)
            if c["scale_attn_by_inverse_layer_idx"]:
                scale /= (l + 1)
            ctx = np.zeros((Tn, D))
            for hh in range(H):
                cols = slice(hh * hs, (hh + 1) * hs)
                q = h @ Wa[:, 0 * D:1 * D][:, cols] + ba[0 * D:1 * D][cols]
                k = h @ Wa[:, 1 * D:2 * D][:, cols] + ba[1 * D:2 * D][cols]
                vv = h @ Wa[:, 2 * D:3 * D][:, cols] + ba[2 * D:3 * D][cols]
                ctx[:, cols] = np_attention(q, k, vv, scale)
            x = x + ctx @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
            h = np_ln(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
            m = np_gelu(c["activation_function"], h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
            x = x + m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
            if l + 1 < L:
                hidden.append(x.copy())
        xf = np_ln(x, W["ln_f.weight"], W["ln_f.bias"], eps)
        hidden.append(xf)
        return xf @ W["wte.weight"].T, hidden
    D, H, L, eps = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"], c["layer_norm_eps"]
    hs = D // H
    rd = int(hs * c["rotary_pct"])
    half = rd // 2
    base = float(c["rotary_emb_base"])
    x = np.stack([W["gpt_neox.embed_in.weight"][i] for i in ids_row])
    hidden = [x.copy()]

    def rope(vec, t):  # rotate pairs (i, i + rd/2) by angle t * base^(-2i/rd)
        out = vec.copy()
        for i in range(half):
            ang = t * base ** (-(2.0 * i) / rd)
            a, b2 = vec[i], vec[i + half]
            out[i] = a * math.cos(ang) - b2 * math.sin(ang)
            out[i + half] = b2 * math.cos(ang) + a * math.sin(ang)
        return out

    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        Wq = W[p + "attention.query_key_value.weight"]
        bq = W.get(p + "attention.query_key_value.bias", np.zeros(3 * D))
        Wd = W[p + "attention.dense.weight"]
        bd = W.get(p + "attention.dense.bias", np.zeros(D))
        h = np_ln(x, W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], eps)
        ctx = np.zeros((Tn, D))
        for hh in range(H):
            r0 = hh * 3 * hs  # rows of this head's [q k v] in the fused output
            q = h @ Wq[r0:r0 + hs].T + bq[r0:r0 + hs]
            k = h @ Wq[r0 + hs:r0 + 2 * hs].T + bq[r0 + hs:r0 + 2 * hs]
            vv = h @ Wq[r0 + 2 * hs:r0 + 3 * hs].T + bq[r0 + 2 * hs:r0 + 3 * hs]
            q = np.stack([rope(q[t], t) for t in range(Tn)])
            k = np.stack([rope(k[t], t) for t in range(Tn)])
            ctx[:, hh * hs:(hh + 1) * hs] = np_attention(q, k, vv, 1.0 / math.sqrt(hs))
        a = ctx @ Wd.T + bd

        def mlp(u):
            z = np_gelu(c["hidden_act"], u @ W[p + "mlp.dense_h_to_4h.weight"].T + W[p + "mlp.dense_h_to_4h.bias"])
            return z @ W[p + "mlp.dense_4h_to_h.weight"].T + W[p + "mlp.dense_4h_to_h.bias"]

        lw, lb = W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"]
        if c["use_parallel_residual"]:
            x = x + a + mlp(np_ln(x, lw, lb, eps))
        else:
            x = x + a
            x = x + mlp(np_ln(x, lw, lb, eps))
        if l + 1 < L:
            hidden.append(x.copy())
    xf = np_ln(x, W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], eps)
    hidden.append(xf)
    head = W["gpt_neox.embed_in.weight"] if c["tie_word_embeddings"] else W["embed_out.weight"]
    return xf @ head.T, hidden


def np_entropy_surprisal(logits_row, ids_row):
    ent, sur = [], []
    for t in range(logits_row.shape[0]):
        z = logits_row[t] - logits_row[t].max()
        lse = math.log(np.exp(z).sum())
        logp = z - lse
        ent.append(-float((np.exp(logp) * logp).sum()) / LN2)
        if t + 1 < logits_row.shape[0]:
            sur.append(-float(logp[ids_row[t + 1]]) / LN2)
    return np.array(ent), np.array(sur)


# ----------------------------------------------------------------------------------------------
# Generation

def roundup1(x: float) -> float:
    """Round up to one significant digit (1.7e-5 -> 2e-5)."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x))
    m = math.ceil(x / 10 ** e - 1e-9)
    return float(f"{m}e{e}")


# Floors: the smallest value of each tolerance among the existing fixtures (tests/data/models/README.md).
FLOOR = dict(logits=2e-4, entropy=1e-4, surprisal=2e-4, hidden0=1e-6, hidden_mid=9e-5, hidden_last=3e-5, rtol=1e-5)


def stored_weights(tensors_read: dict, v: dict) -> dict:
    """Model tensors as read back from the file (buffers dropped), float64."""
    ign = set(buffers(v))
    return {k: a.astype(np.float64) for k, a in tensors_read.items() if k not in ign}


def fp32_errors(v, c, W, ids, golden):
    """Max errors of a straightforward torch float32 run of the same reference vs the goldens."""
    runs = ["exact"] if v["arch"] == "gpt2" else ["exact", "hf32"]
    err = None
    for tables in runs:
        lg, hid = forward(v, c, W, ids, torch.float32, tables)
        ent, sur = entropy_surprisal(lg, ids)  # in float32, from float32 logits
        e = {
            "logits_max_abs": float((lg.double() - golden["logits64"]).abs().max()),
            "entropy_bits_max_abs": float((ent.double() - golden["entropy_bits"]).abs().max()),
            "surprisal_bits_max_abs": float((sur.double() - golden["surprisal_bits"]).abs().max()),
            "hidden_max_abs": [float((h.double() - g).abs().max()) for h, g in zip(hid, golden["hidden64"])],
            "hidden_max_abs_beyond_rtol": [
                float(((h.double() - g).abs() - FLOOR["rtol"] * g.abs()).clamp(min=0).max())
                for h, g in zip(hid, golden["hidden64"])],
        }
        if err is None:
            err = e
        else:
            for k in e:
                err[k] = [max(a, b) for a, b in zip(err[k], e[k])] if isinstance(e[k], list) else max(err[k], e[k])
    err["runs"] = ["torch float32" + ("" if t == "exact" else ", transformers-style float32 rotary tables")
                   for t in runs]
    return err


def tolerances(err, L):
    tol = {
        "logits_atol": max(FLOOR["logits"], roundup1(10 * err["logits_max_abs"])),
        "entropy_bits_atol": max(FLOOR["entropy"], roundup1(10 * err["entropy_bits_max_abs"])),
        "surprisal_bits_atol": max(FLOOR["surprisal"], roundup1(10 * err["surprisal_bits_max_abs"])),
        "hidden_atol": [],
        "hidden_rtol": FLOOR["rtol"],
    }
    for K, e in enumerate(err["hidden_max_abs"]):
        if K == 0:  # exact up to the float32 rounding of the golden, which hidden_rtol covers
            e = err["hidden_max_abs_beyond_rtol"][0]
        floor = FLOOR["hidden0"] if K == 0 else FLOOR["hidden_last"] if K == L else FLOOR["hidden_mid"]
        tol["hidden_atol"].append(max(floor, roundup1(10 * e)))
    tol["note"] = ("suggested for an fp32 engine vs these float64 goldens, elementwise: |got - expected| <= atol "
                   "for logits/entropy_bits/surprisal_bits and |got - expected| <= hidden_atol[K] + hidden_rtol * "
                   "|expected| for hidden.K; ~10x (rounded up) the max error of a straightforward torch float32 "
                   "run of the reference, never below the smallest tolerance of the existing fixtures")
    return tol


def sensitivity(v, c, W, ids, golden, tol):
    """How far the logits move if the variant's flag is ignored (baseline value used instead)."""
    if not v["flag"]:
        return None
    key, val = v["flag"]
    c2 = dict(c)
    c2[key] = val
    lg, _ = forward(v, c2, W, ids)
    ent, _ = entropy_surprisal(lg, ids)
    d = float((lg - golden["logits64"]).abs().max())
    return {f"{key} treated as {json.dumps(val)}": {
        "logits_max_abs_diff": d,
        "entropy_bits_max_abs_diff": float((ent - golden["entropy_bits"]).abs().max()),
        "x_logits_tol": d / tol["logits_atol"]}}


def generate(v: dict) -> dict:
    c = full_config(v)
    L = c["n_layer"] if v["arch"] == "gpt2" else c["num_hidden_layers"]
    V = c["vocab_size"]
    rng = np.random.default_rng(v["seed"])
    W = make_weights(v, rng)
    ids = make_inputs(V, rng)
    # Scale the final layer norm (weight and bias, so the logits scale exactly) for median entropy 4 bits.
    W32 = {k: a.astype(np.float32).astype(np.float64) for k, a in W.items()}
    lg1, _ = forward(v, c, W32, ids)
    lo, hi = 0.05, 20.0
    for _ in range(80):
        s = math.sqrt(lo * hi)
        med = float(torch.quantile(entropy_surprisal(lg1 * s, ids)[0].flatten(), 0.5))
        lo, hi = (s, hi) if med > 4.0 else (lo, s)
    s = math.sqrt(lo * hi)
    for k in final_norm_keys(v):
        W[k] = W[k] * s

    d = OUT_ROOT / v["name"]
    d.mkdir(parents=True, exist_ok=True)
    model_tensors = {k: ("F32", a) for k, a in W.items()}
    model_tensors.update(buffers(v))
    data_off = write_safetensors(d / "model.safetensors", model_tensors)
    (d / "config.json").write_text(json.dumps(config_json(v), indent=2, sort_keys=True) + "\n")

    # Goldens from the tensors as re-read from the written file (float32 decoded exactly -> float64).
    read, header = read_safetensors(d / "model.safetensors")
    Wr = stored_weights(read, v)
    logits64, hidden64 = forward(v, c, Wr, ids)
    ent, sur = entropy_surprisal(logits64, ids)
    golden = {"logits64": logits64, "hidden64": hidden64, "entropy_bits": ent, "surprisal_bits": sur}
    exp = {"input_ids": ("I64", ids), "logits": ("F32", logits64.numpy()),
           "entropy_bits": ("F64", ent.numpy()), "surprisal_bits": ("F64", sur.numpy())}
    for K, h in enumerate(hidden64):
        exp[f"hidden.{K}"] = ("F32", h.numpy())
    write_safetensors(d / "expected.safetensors", exp)

    err = fp32_errors(v, c, Wr, ids, golden)
    tol = tolerances(err, L)
    D = c["n_embd"] if v["arch"] == "gpt2" else c["hidden_size"]
    H = c["n_head"] if v["arch"] == "gpt2" else c["num_attention_heads"]
    summary = {"model_type": v["arch"], "vocab_size": V, "d_model": D, "n_head": H, "head_dim": D // H,
               "n_layer": L}
    if v["arch"] == "gpt2":
        summary.update({k: c[k] for k in ("n_positions", "activation_function", "layer_norm_epsilon",
                                          "scale_attn_weights", "scale_attn_by_inverse_layer_idx")})
        summary["n_inner"] = c["n_inner"] or 4 * D
        summary["lm_head"] = "tied to wte"
    else:
        summary.update({k: c[k] for k in ("max_position_embeddings", "intermediate_size", "hidden_act",
                                          "rotary_pct", "rotary_emb_base", "use_parallel_residual",
                                          "attention_bias", "tie_word_embeddings", "layer_norm_eps")})
        summary["rotary_ndims"] = int((D // H) * c["rotary_pct"])
        summary["lm_head"] = "gpt_neox.embed_in (tied)" if c["tie_word_embeddings"] else "embed_out (untied)"
    ep = ent.numpy().ravel()
    files = {}
    for f in ("config.json", "model.safetensors", "expected.safetensors"):
        files[f] = {"bytes": (d / f).stat().st_size, "sha256": hashlib.sha256((d / f).read_bytes()).hexdigest()}
    files["model.safetensors"]["data_section_offset"] = data_off
    doc = {
        "fixture": v["name"],
        "set": "variants",
        "about": v["about"],
        "reference": {
            "implementation": "tools/variant_fixtures/gen.py: PyTorch float64 re-implementation of transformers' "
                              + ("GPT2LMHeadModel" if v["arch"] == "gpt2" else "GPTNeoXForCausalLM")
                              + " (eval mode, eager attention, causal mask, no padding, position ids 0..T-1) "
                                "following tests/data/models/README.md",
            "weights": "the tensors stored in this directory, decoded exactly and upcast to float64",
            "verified_by": "gen.py verify(): re-reads every file with the hand-written reader and recomputes all "
                           "goldens with a second, loop-based numpy float64 implementation (agreement ~1e-12)",
            "seed": v["seed"],
        },
        "config_summary": summary,
        "checkpoint": {
            "storage_dtype": "F32",
            "files": files,
            "tensor_dtypes": {k: header[k]["dtype"] for k in sorted(read)},
            "keys_to_ignore": sorted(buffers(v)),
        },
        "inputs": {"batch": B, "seq_len": T, "note": "rows are independent sequences, no padding; position ids "
                   "0..T-1; each row contains token 0, token V-1 and repeated segments"},
        "arrays": {
            "input_ids": f"I64 [{B},{T}] token ids",
            "logits": f"F32 [{B},{T},{V}] float64 reference logits rounded to float32",
            "entropy_bits": f"F64 [{B},{T}] Shannon entropy (bits) of softmax(logits[b,t])",
            "surprisal_bits": f"F64 [{B},{T - 1}] -log2 softmax(logits[b,t])[ids[b,t+1]]",
            "hidden.K": f"F32 [{B},{T},{D}], K = 0..{L}: HF output_hidden_states; hidden.0 = embedding output, "
                        f"hidden.K = output of block K-1 for 1 <= K < {L}, hidden.{L} = final layer norm applied "
                        "to the output of the last block",
        },
        "stats": {
            "entropy_bits": {"min": float(ep.min()), "p05": float(np.percentile(ep, 5)),
                             "median": float(np.median(ep)), "p95": float(np.percentile(ep, 95)),
                             "max": float(ep.max())},
            "logits_max_abs": float(logits64.abs().max()),
            "hidden_max_abs": [float(h.abs().max()) for h in hidden64],
            "final_norm_scale_for_median_entropy_4": s,
        },
        "measured_torch_fp32_error": err,
        "tolerances": tol,
    }
    sens = sensitivity(v, c, Wr, ids, golden, tol)
    if sens:
        doc["flag_sensitivity"] = sens
    (d / "expected.json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


# ----------------------------------------------------------------------------------------------
# Verification

def verify(v: dict) -> float:
    d = OUT_ROOT / v["name"]
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["model_type"] == v["arch"]
    c = full_config(v)
    # The config as written must describe the same model (defaults filled in as transformers does).
    if v["arch"] == "gpt2":
        parsed = dict(vocab_size=cfg["vocab_size"], n_positions=cfg["n_positions"], n_embd=cfg["n_embd"],
                      n_head=cfg["n_head"], n_layer=cfg["n_layer"], n_inner=cfg.get("n_inner"),
                      activation_function=cfg.get("activation_function", "gelu_new"),
                      layer_norm_epsilon=cfg.get("layer_norm_epsilon", 1e-5),
                      scale_attn_weights=cfg.get("scale_attn_weights", True),
                      scale_attn_by_inverse_layer_idx=cfg.get("scale_attn_by_inverse_layer_idx", False))
    else:
        parsed = dict(vocab_size=cfg["vocab_size"], max_position_embeddings=cfg["max_position_embeddings"],
                      hidden_size=cfg["hidden_size"], num_attention_heads=cfg["num_attention_heads"],
                      num_hidden_layers=cfg["num_hidden_layers"], intermediate_size=cfg["intermediate_size"],
                      hidden_act=cfg.get("hidden_act", "gelu"), layer_norm_eps=cfg.get("layer_norm_eps", 1e-5),
                      rotary_pct=cfg.get("rotary_pct", 0.25), rotary_emb_base=cfg.get("rotary_emb_base", 10000),
                      use_parallel_residual=cfg.get("use_parallel_residual", True),
                      tie_word_embeddings=cfg.get("tie_word_embeddings", False),
                      attention_bias=cfg.get("attention_bias", True))
    assert parsed == c, (parsed, c)
    read, _ = read_safetensors(d / "model.safetensors")
    Wr = stored_weights(read, v)
    exp, _ = read_safetensors(d / "expected.safetensors")
    ids = exp["input_ids"]
    worst = 0.0
    L = c["n_layer"] if v["arch"] == "gpt2" else c["num_hidden_layers"]
    assert sorted(exp) == sorted(["input_ids", "logits", "entropy_bits", "surprisal_bits"]
                                 + [f"hidden.{K}" for K in range(L + 1)])
    for b in range(ids.shape[0]):
        lg, hid = np_forward(v["arch"], c, Wr, ids[b])
        ent, sur = np_entropy_surprisal(lg, ids[b])
        # float32-stored arrays: the recomputation must round to the stored value (or differ by
        # at most the float32 rounding of the golden, relative 6e-8, when it lands on a tie edge).
        for name, got in [("logits", lg)] + [(f"hidden.{K}", h) for K, h in enumerate(hid)]:
            ref = exp[name][b].astype(np.float64)
            dev = np.abs(got - ref) - 6.0e-8 * np.abs(ref)
            worst_f32 = float(dev.max())
            assert worst_f32 <= 1e-12, (v["name"], name, worst_f32)
        for name, got in (("entropy_bits", ent), ("surprisal_bits", sur)):
            dmax = float(np.abs(got - exp[name][b]).max())
            worst = max(worst, dmax)
            assert dmax <= 1e-11, (v["name"], name, dmax)
    # And the torch path reproduces the stored F64 arrays bit-for-bit.
    lg64, _ = forward(v, c, Wr, ids)
    e64, s64 = entropy_surprisal(lg64, ids)
    assert np.array_equal(e64.numpy(), exp["entropy_bits"]) and np.array_equal(s64.numpy(), exp["surprisal_bits"])
    assert np.array_equal(lg64.numpy().astype(np.float32), exp["logits"])
    lgd = float(np.abs(lg64.numpy() - np.stack([np_forward(v["arch"], c, Wr, ids[b])[0] for b in range(ids.shape[0])])).max())
    return max(worst, lgd)


def crosscheck_main_fixtures():
    """Run this reference on the main fixtures gpt2-tiny / neox-tiny (independently generated goldens)."""
    keys = {"gpt2": ["vocab_size", "n_positions", "n_embd", "n_head", "n_layer", "activation_function",
                     "layer_norm_epsilon"],
            "gpt_neox": ["vocab_size", "max_position_embeddings", "hidden_size", "num_attention_heads",
                         "num_hidden_layers", "intermediate_size", "hidden_act", "layer_norm_eps", "rotary_pct",
                         "rotary_emb_base", "use_parallel_residual", "tie_word_embeddings"]}
    for name in ("gpt2-tiny", "neox-tiny"):
        d = REPO / "tests" / "data" / "models" / name
        cfg = json.loads((d / "config.json").read_text())
        arch = cfg["model_type"]
        c = dict(GPT2_BASE if arch == "gpt2" else NEOX_BASE)
        c.update({k: cfg[k] for k in keys[arch]})
        Wr, _ = read_safetensors(d / "model.safetensors")
        Wr = {k: a.astype(np.float64) for k, a in Wr.items() if a.dtype.kind == "f"}
        exp, _ = read_safetensors(d / "expected.safetensors")
        ids = exp["input_ids"]
        lg, hid = forward(arch, c, Wr, ids)
        ent, sur = entropy_surprisal(lg, ids)
        dl = float((lg - torch.from_numpy(exp["logits"]).double()).abs().max())
        de = float((ent - torch.from_numpy(exp["entropy_bits"])).abs().max())
        ds = float((sur - torch.from_numpy(exp["surprisal_bits"])).abs().max())
        dh = max(float((h - torch.from_numpy(exp[f"hidden.{K}"]).double()).abs().max()) for K, h in enumerate(hid))
        print(f"{name}: max |d| logits {dl:.2e} (F32-stored), hidden {dh:.2e} (F32-stored), "
              f"entropy {de:.2e}, surprisal {ds:.2e}")
        assert de < 1e-11 and ds < 1e-11 and dl < 1e-5


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", action="store_true", help="only verify the written fixtures")
    ap.add_argument("--crosscheck", action="store_true",
                    help="run the reference on the main fixtures gpt2-tiny / neox-tiny and compare")
    ap.add_argument("names", nargs="*", help="subset of variant names")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    if args.crosscheck:
        crosscheck_main_fixtures()
        return
    sel = [v for v in VARIANTS if not args.names or v["name"] in args.names]
    total = 0
    for v in sel:
        if not args.verify:
            doc = generate(v)
            st = doc["stats"]["entropy_bits"]
            size = sum(f.stat().st_size for f in (OUT_ROOT / v["name"]).iterdir())
            total += size
            sens = doc.get("flag_sensitivity")
            sens_s = ""
            if sens:
                (k, sv), = sens.items()
                sens_s = f" | flag ignored: dlogits {sv['logits_max_abs_diff']:.3g}"
            print(f"{v['name']:28s} {size / 1024:6.1f} KiB  H bits min/med/max {st['min']:.3f}/"
                  f"{st['median']:.3f}/{st['max']:.3f}  fp32 err logits {doc['measured_torch_fp32_error']['logits_max_abs']:.2g}"
                  f" tol {doc['tolerances']['logits_atol']:g}{sens_s}")
        dev = verify(v)
        print(f"  verified {v['name']}: second implementation agrees, max |d| (F64 arrays, f64 logits) = {dev:.2e}")
    if not args.verify:
        print(f"total {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
