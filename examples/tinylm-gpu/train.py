#!/usr/bin/env python3
"""train.py -- the GPU path of `ratchet research` (docs/research.md): a character-level
transformer trained from scratch on the same generated corpus as examples/tinylm (the same
grammar and generator, so the same text), under a fixed wall-clock budget, printing

    val_bpb: 1.234567      bits per byte on the validation split (selected on)
    test_bpb: 1.234567     bits per byte on the test split (reported, never selected on)

Contract: RATCHET_SEED seeds every random draw (torch, CUDA, batches); training runs for
TINYLM_SECONDS when set, else TRAIN_SHARE of RATCHET_BUDGET seconds (default 60) of wall-clock
time, measured after the model is built and the data is on the device. Needs PyTorch; runs on
the CPU when no GPU is visible (slowly).

    RATCHET_SEED=1 TINYLM_SECONDS=30 python3 train.py
"""
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# EVOLVE-BLOCK-START
LR = 0.001             # ratchet: log 0.00003 0.03
SCHEDULE = "cosine"    # ratchet: choice constant|cosine|linear
WARMUP = 0.05          # ratchet: real 0 0.3
WIDTH = 128            # ratchet: int 32 768
DEPTH = 2              # ratchet: int 1 12
HEADS = 4              # ratchet: int 1 8
CONTEXT = 64           # ratchet: int 8 512
BATCH = 64             # ratchet: int 8 512
DROPOUT = 0.0          # ratchet: real 0 0.3
WEIGHT_DECAY = 0.01    # ratchet: log 0.00001 0.3
INIT_SCALE = 1.0       # ratchet: log 0.1 4
CLIP = 1.0             # ratchet: log 0.1 10
ACTIVATION = "gelu"    # ratchet: choice gelu|relu|silu
NORM = "pre"           # ratchet: choice pre|post
# EVOLVE-BLOCK-END

TRAIN_SHARE = 0.6
VAL_CHARS = 12000
TEST_CHARS = 12000
TRAIN_CHARS = 240000
ALPHABET = "abcdefghijklmnopqrstuvwxyz ,.\n"
MASK = (1 << 64) - 1

# ---- the corpus: examples/tinylm/tinylm.c's grammar and generator, bit for bit ----------------

DET = ["the", "a", "every", "no", "one", "this", "that", "some"]
ADJ = ["small", "green", "quiet", "old", "bright", "heavy", "strange", "careful", "silver",
       "narrow", "warm", "lazy"]
NOUN = ["fox", "river", "teacher", "window", "garden", "machine", "bird", "letter", "farmer",
        "engine", "island", "kettle", "painter", "signal", "forest", "lantern"]
VERB = ["sees", "follows", "builds", "carries", "finds", "watches", "opens", "paints", "hears",
        "moves", "keeps", "answers"]
VERB_I = ["sleeps", "waits", "sings", "returns", "wanders", "rests", "listens", "shines"]
PREP = ["near", "under", "behind", "beside", "across", "inside"]
ADV = ["slowly", "again", "today", "quietly", "often", "at night"]


class SplitMix:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) / 9007199254740992.0

    def pick(self, words):
        return words[self.next() % len(words)]


def noun_phrase(r):
    out = [r.pick(DET), " "]
    if r.unit() < 0.5:
        out += [r.pick(ADJ), " "]
    out.append(r.pick(NOUN))
    return out


def sentence(r):
    out = noun_phrase(r) + [" "]
    if r.unit() < 0.35:
        out.append(r.pick(VERB_I))
        if r.unit() < 0.5:
            out += [" ", r.pick(ADV)]
        out.append(", and ")
        out += noun_phrase(r) + [" "]
    out += [r.pick(VERB), " "] + noun_phrase(r)
    if r.unit() < 0.4:
        out += [" ", r.pick(PREP), " "] + noun_phrase(r)
    if r.unit() < 0.3:
        out += [" ", r.pick(ADV)]
    out.append(".\n" if r.unit() < 0.2 else ". ")
    return "".join(out)


def make_corpus(n):
    r = SplitMix(20261203)  # fixed: the corpus never depends on RATCHET_SEED
    parts, total = [], 0
    while total < n:
        s = sentence(r)
        parts.append(s)
        total += len(s)
    text = "".join(parts)[:n]
    return torch.tensor([ALPHABET.index(c) for c in text], dtype=torch.long)


# ---- the model ----------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.fc1, self.fc2 = nn.Linear(WIDTH, 4 * WIDTH), nn.Linear(4 * WIDTH, WIDTH)
        self.act = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu}[ACTIVATION]

    def attend(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(WIDTH, dim=2)
        shape = (b, t, HEADS, c // HEADS)
        q, k, v = (y.view(shape).transpose(1, 2) for y in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=DROPOUT if self.training else 0.0)
        return F.dropout(self.proj(y.transpose(1, 2).reshape(b, t, c)), DROPOUT, self.training)

    def mlp(self, x):
        return F.dropout(self.fc2(self.act(self.fc1(x))), DROPOUT, self.training)

    def forward(self, x):
        if NORM == "pre":
            x = x + self.attend(self.n1(x))
            return x + self.mlp(self.n2(x))
        x = self.n1(x + self.attend(x))
        return self.n2(x + self.mlp(x))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(len(ALPHABET), WIDTH)
        self.pos = nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(DEPTH))
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, len(ALPHABET))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=INIT_SCALE / math.sqrt(p.shape[1]))

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x))


def lr_at(f):
    if WARMUP > 0 and f < WARMUP:
        return LR * f / WARMUP
    r = (f - WARMUP) / (1 - WARMUP) if WARMUP < 1 else 1.0
    if SCHEDULE == "cosine":
        return LR * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * r)))
    if SCHEDULE == "linear":
        return LR * (1 - 0.95 * r)
    return LR


def nll_bits(model, windows):
    """Bits to encode every token but the first of each window, each from those before it."""
    logits = model(windows[:, :-1]).float()
    nll = F.cross_entropy(logits.reshape(-1, len(ALPHABET)), windows[:, 1:].reshape(-1),
                          reduction="sum")
    return nll.item() / math.log(2)


@torch.no_grad()
def bits_per_byte(model, data, device):
    """Mean bits per character of data[1:], in windows of CONTEXT + 1 characters that overlap
    by one, so that every character after the first is predicted once."""
    model.eval()
    n, total = len(data), 0.0
    nfull = (n - 1) // CONTEXT
    for i in range(0, nfull, 64):
        starts = range(i * CONTEXT, min(nfull, i + 64) * CONTEXT, CONTEXT)
        windows = torch.stack([data[a:a + CONTEXT + 1] for a in starts]).to(device)
        total += nll_bits(model, windows)
    if nfull * CONTEXT < n - 1:
        total += nll_bits(model, data[nfull * CONTEXT:].unsqueeze(0).to(device))
    model.train()
    return total / (n - 1)


def main():
    seed = int(os.environ.get("RATCHET_SEED", "1"))
    budget = float(os.environ.get("RATCHET_BUDGET", "60"))
    train_seconds = float(os.environ.get("TINYLM_SECONDS", "0")) or budget * TRAIN_SHARE
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if WIDTH % HEADS:
        raise SystemExit("train.py: WIDTH must be a multiple of HEADS")
    corpus = make_corpus(TRAIN_CHARS + VAL_CHARS + TEST_CHARS)
    train = corpus[:TRAIN_CHARS].to(device)
    val = corpus[TRAIN_CHARS:TRAIN_CHARS + VAL_CHARS]
    test = corpus[TRAIN_CHARS + VAL_CHARS:]
    model = TinyLM().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    steps, t0 = 0, time.time()
    while True:
        f = (time.time() - t0) / train_seconds
        if f >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(f)
        ix = torch.randint(0, TRAIN_CHARS - CONTEXT - 1, (BATCH,), device=device, generator=gen)
        offsets = ix.unsqueeze(1) + torch.arange(CONTEXT + 1, device=device)
        window = train[offsets]
        x, y = window[:, :-1], window[:, 1:]
        loss = F.cross_entropy(model(x).reshape(-1, len(ALPHABET)), y.reshape(-1))
        if not torch.isfinite(loss):
            raise SystemExit("train.py: the loss diverged at step %d" % steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        steps += 1
    if device == "cuda":
        torch.cuda.synchronize()
        print("memory_gb: %.3f" % (torch.cuda.max_memory_allocated() / 2**30))
    print("steps: %d" % steps)
    print("val_bpb: %.6f" % bits_per_byte(model, val, device))
    print("test_bpb: %.6f" % bits_per_byte(model, test, device))


if __name__ == "__main__":
    main()
