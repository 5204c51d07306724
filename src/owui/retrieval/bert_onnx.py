"""all-MiniLM-L6-v2 (a BERT encoder) as an ONNX graph built from its safetensors weights, run
by ONNX Runtime: the default embeddings without torch.

The graph is the model's forward pass written out with standard ONNX operators (opset 17):
embeddings, then per layer self-attention and the feed-forward block, each followed by a
residual LayerNorm; it answers the last hidden state, which `MiniLM` mean-pools over the real
tokens and L2-normalises, as sentence-transformers does for this model. ONNX Runtime's own graph
optimiser fuses the attention, GELU and LayerNorm patterns. Building the graph takes well under a
second, so nothing derived from the weights is stored.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17


class _Graph:
    """The nodes and weights of the graph, added in order."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def weight(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, *inputs: str, **attributes: Any) -> str:
        self._count += 1
        output = f"{kind.lower()}_{self._count}"
        self.nodes.append(self.helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        """x @ W.T + b, with W stored transposed once here rather than at every call."""
        kernel = np.ascontiguousarray(weights[f"{prefix}.weight"].T)
        product = self.op("MatMul", x, self.weight(f"{prefix}.kernel", kernel))
        return self.op("Add", product, self.weight(f"{prefix}.bias", weights[f"{prefix}.bias"]))

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], prefix: str, eps: float) -> str:
        return self.op("LayerNormalization", x,
                       self.weight(f"{prefix}.gamma", weights[f"{prefix}.weight"]),
                       self.weight(f"{prefix}.beta", weights[f"{prefix}.bias"]),
                       axis=-1, epsilon=eps)


def _attention(g: _Graph, x: str, mask: str, w: dict[str, np.ndarray], prefix: str,
               heads: int, head_size: int) -> str:
    split = g.weight(f"{prefix}.split", np.array([0, 0, heads, head_size], dtype=np.int64))

    def project(name: str, perm: list[int]) -> str:
        projected = g.linear(x, w, f"{prefix}.self.{name}")
        return g.op("Transpose", g.op("Reshape", projected, split), perm=perm)

    query = project("query", [0, 2, 1, 3])  # batch, head, token, dim
    key = project("key", [0, 2, 3, 1])  # batch, head, dim, token
    value = project("value", [0, 2, 1, 3])
    scale = g.weight(f"{prefix}.scale", np.array(1 / math.sqrt(head_size), dtype=np.float32))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), mask)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
    merged = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]),
                  g.weight(f"{prefix}.merge", np.array([0, 0, heads * head_size],
                                                       dtype=np.int64)))
    return g.linear(merged, w, f"{prefix}.output.dense")


def _gelu(g: _Graph, x: str, prefix: str) -> str:
    """The exact GELU BERT uses: x * (1 + erf(x / sqrt 2)) / 2."""
    root2 = g.weight(f"{prefix}.root2", np.array(math.sqrt(2), dtype=np.float32))
    one = g.weight(f"{prefix}.one", np.array(1, dtype=np.float32))
    half = g.weight(f"{prefix}.half", np.array(0.5, dtype=np.float32))
    erf = g.op("Erf", g.op("Div", x, root2))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, one)), half)


def _embeddings(g: _Graph, w: dict[str, np.ndarray], eps: float) -> str:
    words = g.op("Gather", g.weight("words", w["embeddings.word_embeddings.weight"]), "input_ids")
    # Positions 0..n-1 of this batch's length; every token is of type 0 (one segment).
    length = g.op("Slice", g.op("Shape", "input_ids"), g.weight("one_i", np.array([1])),
                  g.weight("two_i", np.array([2])))
    positions = g.op("Slice", g.weight("positions", w["embeddings.position_embeddings.weight"]),
                     g.weight("zero_i", np.array([0])), length)
    segment = g.weight("segment", w["embeddings.token_type_embeddings.weight"][0])
    summed = g.op("Add", g.op("Add", words, positions), segment)
    return g.layer_norm(summed, w, "embeddings.LayerNorm", eps)


def _mask(g: _Graph) -> str:
    """0 where a token is real, a large negative number where it is padding, per key position."""
    real = g.op("Cast", g.op("Unsqueeze", "attention_mask", g.weight("axes", np.array([1, 2]))),
                to=1)  # FLOAT
    return g.op("Mul", g.op("Sub", g.weight("ones", np.array(1, dtype=np.float32)), real),
                g.weight("negative", np.array(-1e4, dtype=np.float32)))


def build_model(model_dir: Path) -> bytes:
    """The serialised ONNX model of the BERT encoder whose files are in `model_dir`."""
    from onnx import TensorProto
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    weights = load_file(str(model_dir / "model.safetensors"))
    heads, hidden = config["num_attention_heads"], config["hidden_size"]
    eps = float(config["layer_norm_eps"])
    g = _Graph()
    x, mask = _embeddings(g, weights, eps), _mask(g)
    for index in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{index}"
        attended = _attention(g, x, mask, weights, f"{prefix}.attention", heads, hidden // heads)
        x = g.layer_norm(g.op("Add", attended, x), weights, f"{prefix}.attention.output.LayerNorm",
                         eps)
        inner = _gelu(g, g.linear(x, weights, f"{prefix}.intermediate.dense"), prefix)
        x = g.layer_norm(g.op("Add", g.linear(inner, weights, f"{prefix}.output.dense"), x),
                         weights, f"{prefix}.output.LayerNorm", eps)
    h = g.helper
    graph = h.make_graph(
        g.nodes, "bert", [h.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
                          for name in ("input_ids", "attention_mask")],
        [h.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "tokens", hidden])],
        initializer=g.initializers)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)])
    model.ir_version = 8  # what every ONNX Runtime of the last years reads
    return model.SerializeToString()


class MiniLM:
    """Sentence embeddings (mean-pooled, normalised) of a sentence-transformers BERT model
    folder, on ONNX Runtime; thread-safe, as ONNX Runtime sessions are."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())[
            "max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            build_model(model_dir), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """One normalised float32 vector per text, in order. Texts of similar length are
        batched together, so that short ones are not padded to a long one's length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            vectors[chosen] = self._encode_batch([texts[i] for i in chosen])
        return vectors

    @property
    def dimensions(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)
