#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ from the test fixtures (and a few hand-written
answers where no fixture exists). Re-run after changing fixtures: python3 fuzz/make_seeds.py
Seeds stay small (a few KB each) so that mutation is fast."""
import json
import pathlib
import re
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
MODELS = ROOT / "tests" / "data" / "models"


def fresh(name):
    d = CORPUS / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def safetensors(tensors, metadata=True):
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(values):
    return struct.pack("<%df" % len(values), *values)


# safetensors headers: small synthetic files covering every dtype the reader knows.
d = fresh("safetensors_header")
(d / "f32_f16_bf16.safetensors").write_bytes(safetensors([
    ("wte.weight", "F32", [2, 2], f32([1, 2, 3, 4])),
    ("h.0.ln_1.weight", "F16", [2], b"\x00\x3c\x00\xc0"),
    ("h.0.ln_1.bias", "BF16", [2], b"\x80\x3f\x00\x00")]))
(d / "ints_f64_scalar.safetensors").write_bytes(safetensors([
    ("ids", "I64", [1, 2], struct.pack("<2q", 1, 2)),
    ("mask", "BOOL", [2], b"\x01\x00"),
    ("scale", "F64", [], struct.pack("<d", 0.5)),
    ("empty", "F32", [0, 3], b"")], metadata=False))

# config.json of every family fixture and variant.
d = fresh("config_json")
for cfg in sorted(MODELS.glob("**/config.json")):
    shutil.copy(cfg, d / (cfg.parent.relative_to(MODELS).as_posix().replace("/", "_") + ".json"))

# vocab.json NUL merges.txt [NUL tokenizer_config.json [NUL special_tokens_map.json]]
d = fresh("vocab_merges")
vocab = {"!": 0, "a": 1, "b": 2, "ab": 3, "Ġ": 4, "Ġa": 5, "Ġab": 6, "<|endoftext|>": 7, "l": 8, "o": 9, "lo": 10}
merges = "#version: 0.2\na b\nĠ a\nĠa b\nl o\n"
(d / "gpt2_style").write_bytes(json.dumps(vocab).encode() + b"\0" + merges.encode())
(d / "with_configs").write_bytes(
    json.dumps(vocab).encode() + b"\0" + merges.encode() + b"\0" +
    json.dumps({"add_bos_token": True, "bos_token": "<|endoftext|>", "add_prefix_space": True,
                "added_tokens_decoder": {"7": {"content": "<|endoftext|>", "special": True}}}).encode() + b"\0" +
    json.dumps({"bos_token": "<|endoftext|>", "eos_token": {"content": "<|endoftext|>"},
                "unk_token": "<|endoftext|>"}).encode())
(d / "crlf_no_version").write_bytes(json.dumps({"x": 0, "y": 1, "xy": 2}).encode() + b"\0x y\r\n")

# model.safetensors.index.json over the entry's fixed shards (a.weight, b.weight | c.weight, d.ids).
d = fresh("safetensors_index")
s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
(d / "two_shards.json").write_text(json.dumps({"metadata": {"total_size": 24}, "weight_map": {
    "a.weight": s1, "b.weight": s1, "c.weight": s2, "d.ids": s2}}, indent=2))
(d / "one_shard.json").write_text(json.dumps({"weight_map": {"a.weight": s1}}))
shutil.copy(MODELS / "gpt2-tiny-sharded" / "model.safetensors.index.json", d / "gpt2_tiny_sharded.json")

# experiment YAML: the examples and the YAML snippets of the spec parser's tests.
d = fresh("experiment_yaml")
for y in sorted((ROOT / "examples").glob("*.yaml")):
    shutil.copy(y, d / y.name)
snippets = re.findall(r'R"\((.*?)\)"', (ROOT / "tests" / "experiment" / "spec_parser_test.cpp").read_text(), re.S)
seen = set()
for i, s in enumerate(snippets):
    if "conditions" in s and s not in seen and len(seen) < 24:
        seen.add(s)
        (d / f"spec_parser_test_{i:02d}.yaml").write_text(s)

# items JSON Lines: the demo's first lines and small hand-written sets.
d = fresh("items_jsonl")
lines = (ROOT / "models" / "demo-experiment" / "items.jsonl").read_text().splitlines()[:3]
(d / "demo_first3.jsonl").write_text("\n".join(lines) + "\n")
(d / "no_ids.jsonl").write_text('{"context": "A", "target": "b"}\n\n{"context": "C", "target": "d", "n": 3}\r\n')
(d / "int_ids.jsonl").write_text('{"id": 1, "context": "x", "target": "y"}\n{"id": 2, "context": "", "target": "z"}\n')
(d / "renamed_id.jsonl").write_text('#id_field=key\n{"key": "k1", "context": "x", "target": "y", "tags": [1]}\n')

# Hub cache folders: NUL-separated records "<kind><path>\n<content>".
d = fresh("hub_cache")
c1, c2 = "a" * 40, "0123456789abcdef0123456789abcdef01234567"
blob, lfs = "e" * 40, "f" * 64
def records(*rs):
    return b"\0".join(r.encode() for r in rs)
(d / "one_snapshot").write_bytes(records(
    "rmain\n" + c1, f"b{blob}\n" + '{"model_type": "gpt2"}', f"b{lfs}\nweights",
    f"l{c1}/config.json\n../../blobs/{blob}", f"l{c1}/model.safetensors\n../../blobs/{lfs}"))
(d / "two_refs_dangling").write_bytes(records(
    "rmain\n" + c1 + "\n", "rpr/1\n" + c2, "rv1.0\nnot-a-hash", f"l{c2}/config.json\n../../blobs/{blob}",
    f"f{c2}/model.safetensors.index.json\n" + '{"weight_map": {"a": "model-1.safetensors"}}',
    f"b{blob}.incomplete\npartial", f"d{c1}/sub"))

# Hub HTTP answers: raw status line + headers + body, as the mock Hub of the tests answers.
d = fresh("hub_http")
head_ok = ("HTTP/1.1 200 OK\r\nX-Repo-Commit: " + c1 + "\r\nETag: W/\"" + blob + "\"\r\nContent-Length: 22\r\n\r\n")
(d / "head_200").write_text(head_ok)
(d / "head_302_lfs").write_text(
    "HTTP/1.1 302 Found\r\nLocation: https://cdn-lfs.huggingface.co/repos/x/" + lfs + "?sig=1\r\nX-Repo-Commit: " + c1 +
    "\r\nX-Linked-Etag: \"" + lfs + "\"\r\nX-Linked-Size: 1048576\r\nContent-Length: 1120\r\n\r\n")
(d / "redirect_relative").write_text("HTTP/1.1 307 Temporary Redirect\r\nLocation: /org/new/resolve/main/config.json\r\n\r\n")
(d / "range_206").write_text("HTTP/1.1 100 Continue\r\n\r\nHTTP/2 206\r\ncontent-range: bytes 100-199/1000\r\ncontent-length: 100\r\n\r\n")
(d / "error_404").write_text("HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\nX-Error-Message: Entry not found\r\n\r\n")
(d / "error_401_gated").write_text("HTTP/1.1 401 Unauthorized\r\nX-Error-Code: GatedRepo\r\nX-Error-Message: Invalid credentials in Authorization header\r\n\r\n")
listing = {"id": "org/model", "sha": c1, "siblings": [
    {"rfilename": "config.json", "size": 22, "blobId": blob},
    {"rfilename": "model.safetensors", "size": 134, "blobId": "d" * 40,
     "lfs": {"sha256": lfs, "size": 1048576, "pointerSize": 134}},
    {"rfilename": "tokenizer.json", "blobId": "c" * 40},
    {"rfilename": "../evil"}, {"rfilename": "onnx/model.onnx", "lfs": {"oid": lfs}}]}
(d / "listing_200").write_text("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps(listing))
(d / "listing_sharded").write_text("HTTP/1.1 200 OK\r\n\r\n" + json.dumps({"sha": c2, "siblings": [
    {"rfilename": "config.json"}, {"rfilename": "model.safetensors.index.json"},
    {"rfilename": "model-00001-of-00002.safetensors"}, {"rfilename": "pytorch_model.bin"}]}))

# doctor --compare reference dumps for the entry's model (gpt-neo-tiny: vocab 256, width 48, 2 layers).
d = fresh("doctor_compare")
T, V, D = 2, 256, 48
ids = struct.pack("<2q", 5, 7)
(d / "ids_hidden_logits.safetensors").write_bytes(safetensors(
    [("input_ids", "I64", [1, T], ids)] + [(f"hidden.{k}", "F32", [1, T, D], f32([0.0] * (T * D))) for k in range(3)] +
    [("logits", "F32", [1, T, V], f32([0.0] * (T * V)))]))
(d / "logits_only_3.safetensors").write_bytes(safetensors([("logits", "F32", [1, 3, V], f32([0.5] * (3 * V)))]))
(d / "hidden_f16.safetensors").write_bytes(safetensors(
    [("input_ids", "I64", [1, 1], struct.pack("<q", 1)), ("hidden.0", "F16", [1, 1, D], b"\x00\x3c" * D)]))

total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
print(f"fuzz/corpus: {sum(1 for p in CORPUS.rglob('*') if p.is_file())} files, {total} bytes")
