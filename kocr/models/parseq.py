"""PARSeq (Bautista & Atienza, ECCV 2022) as a plain nn.Module, state_dict-compatible with strhub.

Parameter names equal strhub's inner ``PARSeq`` model (the released ``parseq*.pt`` files): ``pos_queries``,
``encoder.*`` (a timm-style ViT without class token, written out here so kocr needs no timm), ``decoder.*``
(two-stream pre-LN layers on ``nn.MultiheadAttention``), ``head`` and ``text_embed.embedding``.

Token ids (kocr's PARSeq tokenizer must use the same): ``[E]`` = 0, symbols 1..N, ``[B]`` = N+1,
``[P]`` = N+2. The constructor takes ``num_tokens`` = N + 3 like strhub; the head predicts N + 1 classes
(``[E]`` and the symbols, never ``[B]``/``[P]``).

Numerical details that matter (each moves logits by 7e-5..1e-4 if wrong): encoder LayerNorm eps 1e-6,
decoder LayerNorm eps 1e-5, exact-erf GELU, token embeddings scaled by sqrt(D).

Difference from strhub: with ``dec_depth > 1``, AR decoding that stops early followed by refinement crashes
in strhub (it passes the full ``num_steps x num_steps`` mask as the content mask of a shorter context).
kocr slices the same cloze mask to the context length instead. Whenever strhub runs, kocr computes the same
thing, including strhub's mask aliasing (refinement's content stream uses the *cloze* mask, not the
causal one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import permutations
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kocr.errors import KocrError
from kocr.models.family import ModelFamily
from kocr.models.objectives import PARSeqObjective

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset

#: Architecture and decoding options of a PARSeq config (strhub's names and ``parseq`` defaults).
PARSEQ_DEFAULTS: dict[str, Any] = {
    "img_size": [32, 128],
    "patch_size": [4, 8],
    "in_channels": 3,
    "embed_dim": 384,
    "enc_num_heads": 6,
    "enc_mlp_ratio": 4,
    "enc_depth": 12,
    "dec_num_heads": 12,
    "dec_mlp_ratio": 4,
    "dec_depth": 1,
    "max_label_length": 25,
    "dropout": 0.1,
    "perm_num": 6,
    "perm_forward": True,
    "perm_mirrored": True,
    "decode_ar": True,
    "refine_iters": 1,
}


def normalize_parseq_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and check values; returns a new JSON-able dict (lists, not tuples)."""
    unknown = set(config) - set(PARSEQ_DEFAULTS) - {"name", "arch"}
    if unknown:
        raise KocrError(f"unknown PARSeq config keys: {', '.join(sorted(unknown))}")
    if config.get("arch", "parseq") != "parseq":
        raise KocrError(f"not a PARSeq config: arch is {config['arch']!r}")
    head = {"name": str(config["name"])} if "name" in config else {}
    body = {k: v for k, v in config.items() if k not in ("name", "arch")}
    cfg = {**head, "arch": "parseq", **PARSEQ_DEFAULTS, **body}
    cfg["img_size"] = [int(v) for v in cfg["img_size"]]
    cfg["patch_size"] = [int(v) for v in cfg["patch_size"]]
    int_keys = ("in_channels", "embed_dim", "enc_num_heads", "enc_mlp_ratio", "enc_depth", "dec_num_heads")
    int_keys += ("dec_mlp_ratio", "dec_depth", "max_label_length", "perm_num", "refine_iters")
    for key in int_keys:
        cfg[key] = int(cfg[key])
    for key in ("perm_forward", "perm_mirrored", "decode_ar"):
        cfg[key] = bool(cfg[key])
    cfg["dropout"] = float(cfg["dropout"])
    if len(cfg["img_size"]) != 2 or len(cfg["patch_size"]) != 2:
        raise KocrError("PARSeq img_size and patch_size must be [height, width]")
    if any(i % p for i, p in zip(cfg["img_size"], cfg["patch_size"], strict=True)):
        raise KocrError(
            f"PARSeq img_size {cfg['img_size']} must be divisible by patch_size {cfg['patch_size']}"
        )
    for heads in ("enc_num_heads", "dec_num_heads"):
        if cfg["embed_dim"] % cfg[heads]:
            raise KocrError(f"PARSeq embed_dim {cfg['embed_dim']} must be divisible by {heads} {cfg[heads]}")
    if cfg["max_label_length"] < 1 or cfg["dec_depth"] < 1 or cfg["enc_depth"] < 1 or cfg["perm_num"] < 1:
        raise KocrError("PARSeq max_label_length, enc_depth, dec_depth and perm_num must be >= 1")
    if cfg["refine_iters"] < 0:
        raise KocrError("PARSeq refine_iters must be >= 0")
    return cfg


# ---------------------------------------------------------------------------------------------------------
# Encoder: timm VisionTransformer(class_token=False, global_pool='') with the same parameter names.


class PatchEmbed(nn.Module):
    """Non-overlapping conv patchify; tokens are row-major over the (H/ph, W/pw) grid."""

    def __init__(
        self, img_size: Sequence[int], patch_size: Sequence[int], in_chans: int, embed_dim: int
    ) -> None:
        super().__init__()
        self.img_size = tuple(img_size)
        self.grid_size = (img_size[0] // patch_size[0], img_size[1] // patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=tuple(patch_size), stride=tuple(patch_size))

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[-2:]) != self.img_size:
            raise KocrError(
                f"PARSeq expects images of {self.img_size[0]}x{self.img_size[1]} (HxW), got "
                f"{x.shape[-2]}x{x.shape[-1]}: its position embeddings are fixed at construction"
            )
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """timm multi-head self-attention (fused qkv, scaled_dot_product_attention)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact erf, as timm
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN ViT block; LayerNorm eps 1e-6 as timm's ViT."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Encoder(nn.Module):
    """ViT encoder returning all patch tokens after the final LayerNorm (no class token, no pooling)."""

    def __init__(
        self,
        img_size: Sequence[int],
        patch_size: Sequence[int],
        in_chans: int,
        embed_dim: int,
        depth: int,
        num_heads: int,
        mlp_ratio: float,
    ) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches, embed_dim))
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """timm's default ViT init: trunc-normal(0.02) pos_embed and Linear weights, zero Linear biases."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.blocks.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x) + self.pos_embed
        return self.norm(self.blocks(x))


# ---------------------------------------------------------------------------------------------------------
# Decoder: strhub's two-stream (XLNet-style) pre-LN layer.


class DecoderLayer(nn.Module):
    """One decoder layer shared by the query and content streams; LayerNorm eps 1e-5, exact GELU."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm_q = nn.LayerNorm(d_model, eps=1e-5)
        self.norm_c = nn.LayerNorm(d_model, eps=1e-5)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward_stream(
        self,
        tgt: Tensor,
        tgt_norm: Tensor,
        tgt_kv: Tensor,
        memory: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
    ) -> Tensor:
        """One stream: self-attention over the (normed) content, cross-attention to the image, MLP."""
        # need_weights stays at its default (True) like strhub: it selects MHA's explicit-softmax path, and
        # the SDPA path it would otherwise take rounds differently.
        tgt2 = self.self_attn(
            tgt_norm, tgt_kv, tgt_kv, attn_mask=attn_mask, key_padding_mask=key_padding_mask
        )[0]
        tgt = tgt + self.dropout1(tgt2)
        tgt2 = self.cross_attn(self.norm1(tgt), memory, memory)[0]
        tgt = tgt + self.dropout2(tgt2)
        tgt2 = self.linear2(self.dropout(F.gelu(self.linear1(self.norm2(tgt)))))
        return tgt + self.dropout3(tgt2)

    def forward(
        self,
        query: Tensor,
        content: Tensor,
        memory: Tensor,
        query_mask: Tensor | None = None,
        content_mask: Tensor | None = None,
        content_key_padding_mask: Tensor | None = None,
        update_content: bool = True,
    ) -> tuple[Tensor, Tensor]:
        query_norm = self.norm_q(query)
        content_norm = self.norm_c(content)
        query = self.forward_stream(
            query, query_norm, content_norm, memory, query_mask, content_key_padding_mask
        )
        if update_content:
            content = self.forward_stream(
                content, content_norm, content_norm, memory, content_mask, content_key_padding_mask
            )
        return query, content


class Decoder(nn.Module):
    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, num_layers: int
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [DecoderLayer(d_model, nhead, dim_feedforward, dropout) for _ in range(num_layers)]
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(
        self,
        query: Tensor,
        content: Tensor,
        memory: Tensor,
        query_mask: Tensor | None = None,
        content_mask: Tensor | None = None,
        content_key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1  # the content stream of the last layer is never read
            query, content = layer(
                query,
                content,
                memory,
                query_mask,
                content_mask,
                content_key_padding_mask,
                update_content=not last,
            )
        return self.norm(query)


class TokenEmbedding(nn.Module):
    """Token embedding scaled by sqrt(D) (strhub ``TokenEmbedding``)."""

    def __init__(self, num_tokens: int, embed_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_tokens, embed_dim)
        self.embed_dim = embed_dim

    def forward(self, tokens: Tensor) -> Tensor:
        return math.sqrt(self.embed_dim) * self.embedding(tokens)


# ---------------------------------------------------------------------------------------------------------


class PARSeq(nn.Module):
    """PARSeq: ``forward(images) -> logits [B, L, num_tokens - 2]`` (column 0 = ``[E]``).

    ``num_tokens`` is the tokenizer size (charset + 3 for ``[E]``, ``[B]``, ``[P]``), as in strhub.
    Other keyword arguments are the config keys of :data:`PARSEQ_DEFAULTS`.
    """

    def __init__(self, num_tokens: int, **config: Any) -> None:
        super().__init__()
        cfg = normalize_parseq_config(config)
        if num_tokens < 4:
            raise KocrError(f"PARSeq num_tokens must be charset size + 3 (>= 4), got {num_tokens}")
        self.config = cfg
        self.num_tokens = int(num_tokens)
        self.num_classes = self.num_tokens - 2
        self.eos_id, self.bos_id, self.pad_id = 0, self.num_tokens - 2, self.num_tokens - 1
        self.max_label_length = cfg["max_label_length"]
        self.decode_ar = cfg["decode_ar"]
        self.refine_iters = cfg["refine_iters"]
        self.perm_forward = cfg["perm_forward"]
        self.perm_mirrored = cfg["perm_mirrored"]
        self.max_gen_perms = cfg["perm_num"] // 2 if cfg["perm_mirrored"] else cfg["perm_num"]
        d = cfg["embed_dim"]

        self.encoder = Encoder(
            cfg["img_size"],
            cfg["patch_size"],
            cfg["in_channels"],
            d,
            cfg["enc_depth"],
            cfg["enc_num_heads"],
            cfg["enc_mlp_ratio"],
        )
        self.decoder = Decoder(
            d, cfg["dec_num_heads"], d * cfg["dec_mlp_ratio"], cfg["dropout"], cfg["dec_depth"]
        )
        self.head = nn.Linear(d, self.num_tokens - 2)  # [B] and [P] are never predicted
        self.text_embed = TokenEmbedding(self.num_tokens, d)
        self.pos_queries = nn.Parameter(torch.zeros(1, cfg["max_label_length"] + 1, d))  # +1 for [E]
        self.dropout = nn.Dropout(p=cfg["dropout"])
        self._init_weights()

    def _init_weights(self) -> None:
        """strhub's init outside the encoder (which keeps timm's): trunc-normal(0.02), zero biases."""
        for name, m in self.named_modules():
            if name.startswith("encoder"):
                continue
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.trunc_normal_(m.weight, std=0.02)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.pos_queries, std=0.02)

    def no_weight_decay(self) -> set[str]:
        """Parameter names strhub excludes from weight decay."""
        return {"text_embed.embedding.weight", "pos_queries", "encoder.pos_embed"}

    # -- building blocks ----------------------------------------------------------------------------------

    def encode(self, images: Tensor) -> Tensor:
        """Image -> memory [B, num_patches, D]."""
        return self.encoder(images)

    def decode(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        tgt_padding_mask: Tensor | None = None,
        tgt_query: Tensor | None = None,
        tgt_query_mask: Tensor | None = None,
    ) -> Tensor:
        """Run the decoder for context ``tgt`` = ``[B], t1, ...``; returns normed query outputs [B, Q, D].

        ``[B]`` is the null context and gets no position; token k >= 1 gets ``pos_queries[k-1]``.
        """
        n, length = tgt.shape
        null_ctx = self.text_embed(tgt[:, :1])
        tgt_emb = self.pos_queries[:, : length - 1] + self.text_embed(tgt[:, 1:])
        tgt_emb = self.dropout(torch.cat([null_ctx, tgt_emb], dim=1))
        if tgt_query is None:
            tgt_query = self.pos_queries[:, :length].expand(n, -1, -1)
        tgt_query = self.dropout(tgt_query)
        return self.decoder(tgt_query, tgt_emb, memory, tgt_query_mask, tgt_mask, tgt_padding_mask)

    # -- inference ----------------------------------------------------------------------------------------

    def forward(
        self,
        images: Tensor,
        max_length: int | None = None,
        decode_ar: bool | None = None,
        refine_iters: int | None = None,
    ) -> Tensor:
        """Decode ``images`` to logits ``[B, L, num_classes]``.

        ``max_length=None`` is strhub's test/read path: AR decoding stops once every row has emitted
        ``[E]`` (so L can be < max_label_length + 1 without refinement). With ``max_length`` given, exactly
        ``min(max_length, max_label_length) + 1`` steps run. ``decode_ar``/``refine_iters`` default to
        the config values.
        """
        decode_ar = self.decode_ar if decode_ar is None else decode_ar
        refine_iters = self.refine_iters if refine_iters is None else refine_iters
        testing = max_length is None
        max_length = self.max_label_length if max_length is None else min(max_length, self.max_label_length)
        bs = images.shape[0]
        num_steps = max_length + 1
        device = images.device
        memory = self.encode(images)
        pos_queries = self.pos_queries[:, :num_steps].expand(bs, -1, -1)
        causal = torch.triu(torch.ones(num_steps, num_steps, dtype=torch.bool, device=device), 1)

        if decode_ar:
            logits = self._decode_ar(memory, pos_queries, causal, stop_at_eos=testing)
        else:
            # No context but [B]: every position is queried at once.
            tgt_in = torch.full((bs, 1), self.bos_id, dtype=torch.long, device=device)
            logits = self.head(self.decode(tgt_in, memory, tgt_query=pos_queries))

        if refine_iters:
            logits = self._refine(memory, pos_queries, causal, logits, refine_iters)
        return logits

    def _decode_ar(self, memory: Tensor, pos_queries: Tensor, causal: Tensor, stop_at_eos: bool) -> Tensor:
        """Greedy left-to-right decoding, one query per step; tokens after a row's [E] are still fed back."""
        bs, num_steps = pos_queries.shape[:2]
        tgt_in = torch.full((bs, num_steps), self.pad_id, dtype=torch.long, device=memory.device)
        tgt_in[:, 0] = self.bos_id
        logits = []
        for i in range(num_steps):
            j = i + 1
            # Query i sees context 0..i; with the causal content mask earlier outputs never change, so one
            # query at a time is exact (and cheap).
            out = self.decode(
                tgt_in[:, :j],
                memory,
                causal[:j, :j],
                tgt_query=pos_queries[:, i:j],
                tgt_query_mask=causal[i:j, :j],
            )
            p_i = self.head(out)
            logits.append(p_i)
            if j < num_steps:
                tgt_in[:, j] = p_i[:, 0].argmax(-1)
                if stop_at_eos and (tgt_in == self.eos_id).any(dim=-1).all():
                    break
        return torch.cat(logits, dim=1)

    def _refine(
        self, memory: Tensor, pos_queries: Tensor, causal: Tensor, logits: Tensor, iters: int
    ) -> Tensor:
        """Cloze refinement: each position sees [B] and every previous prediction except its own.

        The cloze mask (True only at (i, i+1)) is used for the query *and* the content stream: strhub
        derives it in place from the causal mask it also passes as the content mask, and kocr reproduces
        that aliasing. For a context shorter than ``num_steps`` (AR stopped early) the content mask is
        sliced to the context length, where strhub raises for ``dec_depth > 1``.
        """
        bs = memory.shape[0]
        cloze = causal & ~torch.triu(torch.ones_like(causal), 2)
        bos = torch.full((bs, 1), self.bos_id, dtype=torch.long, device=memory.device)
        for _ in range(iters):
            tgt_in = torch.cat([bos, logits[:, :-1].argmax(-1)], dim=1)
            length = tgt_in.shape[1]
            padding = (tgt_in == self.eos_id).int().cumsum(-1) > 0  # the first [E] and everything after
            out = self.decode(
                tgt_in, memory, cloze[:length, :length], padding, pos_queries, cloze[:, :length]
            )
            logits = self.head(out)
        return logits

    # -- training (permutation language modelling) ------------------------------------------------------

    def gen_tgt_perms(self, tgt: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """strhub's permutations shared by the batch: [K, L] with [B] fixed first and [E] last.

        The first is left-to-right (if ``perm_forward``), then random ones; with ``perm_mirrored`` each
        is followed by its reverse, and the second is replaced by the full right-to-left order ([E] then
        gets the null context, which teaches NAR decoding to predict it).
        """
        device = tgt.device
        max_num_chars = tgt.shape[1] - 2
        if max_num_chars == 1:
            return torch.arange(3, device=device).unsqueeze(0)
        perms = [torch.arange(max_num_chars, device=device)] if self.perm_forward else []
        max_perms = math.factorial(max_num_chars)
        if self.perm_mirrored:
            max_perms //= 2
        num_gen_perms = min(self.max_gen_perms, max_perms)
        if max_num_chars < 5:
            # Sample from the full pool (first half when mirrored) to avoid duplicates.
            if max_num_chars == 4 and self.perm_mirrored:
                selector = [0, 3, 4, 6, 9, 10, 12, 16, 17, 18, 19, 21]
            else:
                selector = list(range(max_perms))
            pool = torch.as_tensor(list(permutations(range(max_num_chars), max_num_chars)), device=device)[
                selector
            ]
            if self.perm_forward:
                pool = pool[1:]
            stacked = torch.stack(perms) if perms else pool.new_zeros((0, max_num_chars))
            num_new = num_gen_perms - len(stacked)
            if len(pool) and num_new > 0:
                idx = torch.randperm(len(pool), generator=generator)[:num_new].to(device)
                stacked = torch.cat([stacked, pool[idx]])
            perm_t = stacked
        else:
            for _ in range(num_gen_perms - len(perms)):
                perms.append(torch.randperm(max_num_chars, generator=generator).to(device))
            perm_t = torch.stack(perms)
        if self.perm_mirrored:
            perm_t = torch.stack([perm_t, perm_t.flip(-1)]).transpose(0, 1).reshape(-1, max_num_chars)
        bos_idx = perm_t.new_zeros((len(perm_t), 1))
        eos_idx = perm_t.new_full((len(perm_t), 1), max_num_chars + 1)
        perm_t = torch.cat([bos_idx, perm_t + 1, eos_idx], dim=1)
        if len(perm_t) > 1:
            perm_t[1, 1:] = max_num_chars + 1 - torch.arange(max_num_chars + 1, device=device)
        return perm_t

    @staticmethod
    def generate_attn_masks(perm: Tensor) -> tuple[Tensor, Tensor]:
        """(content_mask [L-1, L-1], query_mask [L-1, L-1]) for a permutation; True = blocked.

        Position a may not see position b when b comes later in the permutation; queries also may not
        see their own token.
        """
        sz = perm.shape[0]
        rank = torch.empty_like(perm)
        rank[perm] = torch.arange(sz, device=perm.device)
        mask = rank[None, :] > rank[:, None]
        content_mask = mask[:-1, :-1].clone()
        mask = mask | torch.eye(sz, dtype=torch.bool, device=perm.device)
        return content_mask, mask[1:, :-1]

    def training_loss(
        self, images: Tensor, targets: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Permutation-LM cross-entropy averaged over ``perm_num`` orderings (strhub ``training_step``).

        ``targets`` [B, L] are token ids ``[B] t1..tn [E] [P]...``; trailing all-``[P]`` columns are dropped,
        so padding to a fixed length gives the same loss as strhub's pad-to-batch-max tokenizer.
        """
        if targets.dim() != 2 or targets.shape[1] < 2:
            raise KocrError(f"PARSeq targets must be [B, L>=2] token ids, got shape {tuple(targets.shape)}")
        keep = (targets != self.pad_id).any(0).nonzero()
        targets = targets[:, : int(keep.max()) + 1] if len(keep) else targets
        if targets.shape[1] - 1 > self.pos_queries.shape[1]:
            raise KocrError(
                f"labels of {targets.shape[1] - 2} symbols exceed max_label_length {self.max_label_length}"
            )
        if not bool((targets[:, 0] == self.bos_id).all()):
            raise KocrError("PARSeq targets must start with the [B] token")
        memory = self.encode(images)
        perms = self.gen_tgt_perms(targets, generator)
        tgt_in, tgt_out = targets[:, :-1], targets[:, 1:]
        # [E] is never a context token for anything (every ordering ends with it).
        padding = (tgt_in == self.pad_id) | (tgt_in == self.eos_id)
        loss = memory.new_zeros(())
        loss_numel = 0
        n = int((tgt_out != self.pad_id).sum())
        for i, perm in enumerate(perms):
            content_mask, query_mask = self.generate_attn_masks(perm)
            out = self.decode(tgt_in, memory, content_mask, padding, tgt_query_mask=query_mask)
            if n:
                logits = self.head(out).flatten(end_dim=1)
                loss = loss + n * F.cross_entropy(logits, tgt_out.flatten(), ignore_index=self.pad_id)
                loss_numel += n
            if i == 1:
                # [E] is learnt from the forward and reverse orderings only.
                tgt_out = torch.where(tgt_out == self.eos_id, self.pad_id, tgt_out)
                n = int((tgt_out != self.pad_id).sum())
        return loss / max(loss_numel, 1)


# --- the family: what the rest of kocr needs to know about PARSeq -------------------------------------------


class PARSeqFamily(ModelFamily):
    """strhub's PARSeq (:class:`PARSeq`): fixed input size, permutation LM loss, AR decoding + refinement."""

    arch = "parseq"
    decoding = "parseq"
    train_defaults: ClassVar[Mapping[str, float]] = {"lr": 7e-4, "grad_clip": 20.0, "weight_decay": 0.0}
    freeze_prefixes = ("encoder",)
    charset_tensors = ("head.weight", "head.bias", "text_embed.embedding.weight")
    extra_token_rows = 2  # [B] and [P] in the token embedding
    position_tensors = ("pos_queries",)  # max_label_length + 1 rows

    def normalize_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return normalize_parseq_config(config)

    def build(self, config: Mapping[str, Any], num_classes: int) -> nn.Module:
        return PARSeq(num_tokens=num_classes + 2, **config)

    def objective(self, charset: Charset) -> PARSeqObjective:
        return PARSeqObjective(charset)

    def input_size(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        return int(config["in_channels"]), int(config["img_size"][0]), int(config["img_size"][1])

    def size_overrides(self, img_h: int | None, img_w: int | None) -> dict[str, Any]:
        if img_h is None and img_w is None:
            return {}
        default_h, default_w = PARSEQ_DEFAULTS["img_size"]
        return {"img_size": [img_h or default_h, img_w or default_w]}

    def output_steps(self, model: nn.Module, width: int) -> int:
        return int(model.max_label_length) + 1

    def min_opset(self, config: Mapping[str, Any]) -> tuple[str, int] | None:
        return ("PARSeq", 14)  # scaled_dot_product_attention in the encoder

    def export_forward(self, model: nn.Module, images: Tensor) -> Tensor:
        """Every decoding step, no early stop: the loop length must not depend on the data."""
        return model(images, max_length=model.max_label_length)


PARSEQ_FAMILY = PARSeqFamily()
