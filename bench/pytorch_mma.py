#!/usr/bin/env python3
"""PyTorch-eager reference for `vladapt bench mma`: the same LaVIN-style model, shapes and batch.

A frozen LLaMA stack (RMSNorm in float32, rotate-half RoPE, SDPA with the modality-token mask, SwiGLU,
LM head over every position as LaVIN computes it) and a frozen CLIP ViT stack (pre-LN, quick_gelu),
an MM-Adapter before attention in every block written as LaVIN's RepAdapter_Router (1x1 Conv1d
down-projection, dropout, two grouped Conv1d up-projections, a router Linear), the visual neck
(Linear, SiLU, Linear) on the [CLS] states of evenly spaced ViT blocks, a modality embedding at
position 0. Only the adapters, the neck and the modality embedding train (AdamW). As in VLAdapt, the
ViT runs on the image samples only and each image routes its ViT adapters by its own states.

Modes:
  f32          everything float32
  autocast     float32 weights, torch.autocast("cpu", bfloat16)
  bf16         frozen weights stored in bfloat16, adapters float32, under autocast (the fastest
               PyTorch setup on a CPU with AMX/AVX512-BF16)
In both bf16 modes the adapters compute in float32 (see RepAdapterRouter.forward: torch 2.13's bf16
Conv1d backward crashes here on 2 threads); they are a few percent of the step either way.

Prints one line per run: "median_ms peak_rss_gb". Run by hand with the local wheel store
(python3 -m venv v && v/bin/pip install torch==2.13.0), or through
`java -jar target/vladapt.jar bench mma --vs-pytorch v/bin/python`. Never used by tests.
"""
import argparse
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {
    # name: LLM (vocab, d, ffn, layers, heads), ViT (d, mlp, layers, heads, image, patch), batch, tokens, visual tokens
    "demo": dict(vocab=256, d=128, ffn=352, layers=4, heads=4, vd=64, vmlp=128, vlayers=6, vheads=4, image=32, patch=8,
                 batch=16, tokens=56, k=6),
    "llama7b_stack": dict(vocab=32000, d=4096, ffn=11008, layers=2, heads=32, vd=1024, vmlp=4096, vlayers=2, vheads=16,
                          image=224, patch=14, batch=2, tokens=64, k=2),
}


class RepAdapterRouter(nn.Module):
    """LaVIN's MM-Adapter: x + s * (w0 * B(drop(A x)) + w1 * D(drop(A x))), w = softmax(router(z) / t)."""

    def __init__(self, d, r=8, groups=2, t=10.0, p=0.1):
        super().__init__()
        self.conv_A = nn.Conv1d(d, r, 1, groups=1, bias=True)
        self.conv_B = nn.Conv1d(r, d, 1, groups=groups, bias=True)
        self.conv_D = nn.Conv1d(r, d, 1, groups=groups, bias=True)
        self.expert_weights = nn.Linear(d, 2)
        self.dropout = nn.Dropout(p)
        self.t = t
        nn.init.xavier_uniform_(self.conv_A.weight)
        nn.init.zeros_(self.conv_A.bias)
        for c in (self.conv_B, self.conv_D):  # trained-looking experts (zeros would not change the work)
            nn.init.normal_(c.weight, std=0.01)
            nn.init.zeros_(c.bias)

    def forward(self, x, z):
        # x (B, T, d), z (B, d). Under bf16 autocast the 1x1 Conv1d's run as bf16 oneDNN convolutions, whose
        # backward (grouped, 2 threads) corrupts the heap in torch 2.13 on this CPU ("free(): invalid size",
        # segfaults; fine with 1 thread): the adapter runs in float32 there, its input and output cast.
        if torch.is_autocast_enabled("cpu") and x.dtype != torch.float32:
            with torch.autocast("cpu", enabled=False):
                return self.forward(x.float(), z.float()).to(x.dtype)
        w = torch.softmax(self.expert_weights(z) / self.t, -1).unsqueeze(-1).unsqueeze(-1)  # (B, 2, 1, 1)
        xt = x.transpose(1, 2)                                                                # (B, d, T)
        h = self.dropout(self.conv_A(xt))
        y = self.conv_B(h) * w[:, 0] + self.conv_D(h) * w[:, 1]
        return (xt + y).transpose(1, 2).contiguous()


def rms_norm(x, w, eps=1e-6):
    x32 = x.float()
    return w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)


class LlamaBlock(nn.Module):
    def __init__(self, d, ffn, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.input_layernorm = nn.Parameter(torch.ones(d))
        self.post_attention_layernorm = nn.Parameter(torch.ones(d))
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate_proj, self.up_proj = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, h, cos, sin, mask, adapter):
        b, t, d = h.shape
        n = rms_norm(h, self.input_layernorm)
        n = adapter(n, n[:, 0])                                     # routed by the modality token's state
        q = self.q_proj(n).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(n).view(b, t, self.heads, self.hd).transpose(1, 2)
        v = self.v_proj(n).view(b, t, self.heads, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        h = h + self.o_proj(o.transpose(1, 2).reshape(b, t, d))
        n2 = rms_norm(h, self.post_attention_layernorm)
        return h + self.down_proj(F.silu(self.gate_proj(n2)) * self.up_proj(n2))


class ClipBlock(nn.Module):
    def __init__(self, d, mlp, heads):
        super().__init__()
        self.heads = heads
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, h, adapter):
        b, t, d = h.shape
        n = self.layer_norm1(h)
        n = adapter(n.reshape(b * t, 1, d), n.reshape(b * t, d)).view(b, t, d)  # each position routes by its own state
        q, k, v = (p(n).view(b, t, self.heads, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        o = F.scaled_dot_product_attention(q, k, v)
        h = h + self.out_proj(o.transpose(1, 2).reshape(b, t, d))
        m = self.fc1(self.layer_norm2(h))
        return h + self.fc2(m * torch.sigmoid(1.702 * m))


class LavinStyle(nn.Module):
    def __init__(self, s):
        super().__init__()
        d, vd = s["d"], s["vd"]
        self.s = s
        self.embed_tokens = nn.Embedding(s["vocab"], d)
        self.layers = nn.ModuleList(LlamaBlock(d, s["ffn"], s["heads"]) for _ in range(s["layers"]))
        self.norm = nn.Parameter(torch.ones(d))
        self.lm_head = nn.Linear(d, s["vocab"], bias=False)
        self.patch = nn.Conv2d(3, vd, s["patch"], s["patch"], bias=False)
        n = (s["image"] // s["patch"]) ** 2 + 1
        self.class_embedding = nn.Parameter(torch.randn(vd) * 0.02)
        self.position_embedding = nn.Parameter(torch.randn(n, vd) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(vd)
        self.vit = nn.ModuleList(ClipBlock(vd, s["vmlp"], s["vheads"]) for _ in range(s["vlayers"]))
        for p in self.parameters():
            p.requires_grad_(False)
        self.adapter_llm = nn.ModuleList(RepAdapterRouter(d) for _ in range(s["layers"]))
        self.adapter_vit = nn.ModuleList(RepAdapterRouter(vd) for _ in range(s["vlayers"]))
        self.adapter_proj = nn.Sequential(nn.Linear(vd, 128), nn.SiLU(), nn.Linear(128, d))
        self.adapter_modality_embedding = nn.Embedding(2, d)
        k = s["k"]
        self.blocks = [round((j + 1) * s["vlayers"] / k) for j in range(k)]
        inv = 1.0 / (10000.0 ** (torch.arange(0, d // s["heads"], 2).float() / (d // s["heads"])))
        self.register_buffer("inv_freq", inv, persistent=False)

    def visual(self, pixels):
        b, vd = pixels.shape[0], self.s["vd"]
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        h = torch.cat((self.class_embedding.view(1, 1, vd).expand(b, 1, vd).to(x.dtype), x), 1) + self.position_embedding
        h = self.pre_layrnorm(h)
        cls = []
        for i, blk in enumerate(self.vit):
            h = blk(h, self.adapter_vit[i])
            if i + 1 in self.blocks:
                cls.append(h[:, 0])
        return self.adapter_proj(torch.stack(cls, 1))                # (Bi, k, d)

    def forward(self, tokens, has_image, pixels, labels, valid):
        b, l = tokens.shape[0], tokens.shape[1] + 1
        emb = self.embed_tokens(tokens)
        vis = self.visual(pixels)
        rows = has_image.nonzero().view(-1)
        emb = emb.index_copy(0, rows, torch.cat((emb[rows, :2], vis.to(emb.dtype), emb[rows, 2 + vis.shape[1]:]), 1))
        h = torch.cat((self.adapter_modality_embedding(has_image).unsqueeze(1).to(emb.dtype), emb), 1)  # (B, L, d)
        pos = torch.arange(l)
        freqs = pos.float().unsqueeze(-1) * self.inv_freq
        e = torch.cat((freqs, freqs), -1)
        cos, sin = e.cos().to(h.dtype), e.sin().to(h.dtype)
        causal = torch.ones(l, l, dtype=torch.bool).tril()
        causal[1:, 0] = False                                          # nobody attends to the modality token
        mask = (causal.unsqueeze(0) & valid.unsqueeze(1)).unsqueeze(1)
        for i, blk in enumerate(self.layers):
            h = blk(h, cos, sin, mask, self.adapter_llm[i])
        logits = self.lm_head(rms_norm(h, self.norm))
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def batch(s, gen):
    b, t, k = s["batch"], s["tokens"], s["k"]
    tokens = torch.randint(3, s["vocab"], (b, t), generator=gen)
    tokens[:, 0] = 1
    has_image = torch.tensor([1 if i % 2 == 0 else 0 for i in range(b)])
    tokens[has_image.bool(), 2:2 + k] = 0
    labels = torch.full((b, t + 1), -100, dtype=torch.long)
    labels[:, t + 1 - 12:] = tokens[:, t - 12:]
    pixels = torch.randn(int(has_image.sum()), 3, s["image"], s["image"], generator=gen)
    valid = torch.ones(b, t + 1, dtype=torch.bool)
    return tokens, has_image, pixels, labels, valid


def profile(batch, tokens, rounds):
    """The same op-by-op table as `vladapt bench block`: a LLaMA-7B block's parts, forward and forward + backward."""
    torch.manual_seed(0)
    d, ffn, h, hd = 4096, 11008, 32, 128
    print(f"LLaMA-7B block, batch {batch} x {tokens} tokens, PyTorch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median ms of {rounds} rounds (forward | forward + backward to the inputs)")
    rows = {}
    for ti, dt in enumerate((torch.float32, torch.bfloat16)):
        blk = LlamaBlock(d, ffn, h).to(dt)
        for p in blk.parameters():
            p.requires_grad_(False)
        ad = RepAdapterRouter(d)
        leaf = lambda *shape: (torch.randn(*shape) * 0.5).to(dt).requires_grad_(True)
        x, xf = leaf(batch, tokens, d), leaf(batch, tokens, ffn)
        q, k, v = leaf(batch, h, tokens, hd), leaf(batch, h, tokens, hd), leaf(batch, h, tokens, hd)
        pos = torch.arange(tokens).float().unsqueeze(-1) * (1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd)))
        e = torch.cat((pos, pos), -1)
        cos, sin = e.cos().to(dt), e.sin().to(dt)
        causal = torch.ones(tokens, tokens, dtype=torch.bool).tril()
        causal[1:, 0] = False
        mask = causal.view(1, 1, tokens, tokens).expand(batch, 1, tokens, tokens)
        ac = torch.autocast("cpu", dtype=torch.bfloat16, enabled=dt == torch.bfloat16)
        parts = {
            "RMSNorm (x2 per block)": lambda: rms_norm(x, blk.input_layernorm),
            "MM-Adapter (LaVIN module)": lambda: ad(x, x[:, 0]),
            "q/k/v/o projection (x4)": lambda: blk.q_proj(x),
            "RoPE on q or k (x2)": lambda: q * cos + rotate_half(q) * sin,
            "SDPA, modality-causal mask": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
            "gate or up projection (x2)": lambda: blk.gate_proj(x),
            "SiLU(gate) * up": lambda: F.silu(xf) * xf,
            "down projection": lambda: blk.down_proj(xf),
            "whole block (with adapter)": lambda: blk(x, cos, sin, mask, ad),
        }
        for name, f in parts.items():
            fwd, both = [], []
            for r in range(rounds + 1):
                t0 = time.perf_counter()
                with torch.no_grad(), ac:
                    f()
                t1 = time.perf_counter()
                with ac:
                    y = f()
                y.backward(torch.ones_like(y))
                t2 = time.perf_counter()
                if r > 0:
                    fwd.append((t1 - t0) * 1e3)
                    both.append((t2 - t1) * 1e3)
            rows.setdefault(name, [None, None])[ti] = (statistics.median(fwd), statistics.median(both))
    print(f"{'part':34s} {'f32 fwd':>10s} {'f32 f+b':>10s}   {'bf16 fwd':>10s} {'bf16 f+b':>10s}")
    for name, (a, b) in rows.items():
        print(f"{name:34s} {a[0]:10.2f} {a[1]:10.2f}   {b[0]:10.2f} {b[1]:10.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=SHAPES, default="llama7b_stack")
    ap.add_argument("--mode", choices=["f32", "autocast", "bf16"], default="bf16")
    ap.add_argument("--steps", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", action="store_true", help="op-by-op table of one LLaMA-7B block instead (as vladapt bench block)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=65)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.profile:
        profile(a.batch, a.tokens, a.steps)
        return
    torch.manual_seed(0)
    s = SHAPES[a.shape]
    model = LavinStyle(s)
    with torch.no_grad():
        for p in model.parameters():
            if not p.requires_grad and p.dim() > 1:
                p.normal_(0, 0.02)
    if a.mode == "bf16":
        for name, p in model.named_parameters():
            if not p.requires_grad:
                p.data = p.data.to(torch.bfloat16)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.02)
    gen = torch.Generator().manual_seed(0)
    model.train()
    times = []
    for i in range(a.steps + 2):
        data = batch(s, gen)
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.mode != "f32"):
            loss = model(*data)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
        if not math.isfinite(loss.item()):
            raise SystemExit("loss is not finite")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB -> GB
    print(f"{statistics.median(times):.3f} {peak:.3f}")


if __name__ == "__main__":
    main()
