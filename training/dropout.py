"""Dropout whose mask costs a quarter of the random draws: the same distribution, cheaper on CPU.

PyTorch's CPU dropout draws its mask with ``bernoulli_``, which on the 2-core training machine took
longer than the matmul after it: profiling a LoRA training step put 45% of it in ``bernoulli_``, most
of it LoRA's dropout on the input of every adapted layer. PyTorch's CPU generator is sequential and
draws one number per element; here each 64-bit draw gives four elements their 16-bit uniforms,
compared with ``p``: the same Bernoulli(1 - p) keep-mask (``p`` to 1/65536). ``python -m
claimsift.eval.bench_train`` measures training with each. On CUDA the native kernel is fused and
fast, so training swaps modules only on CPU.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.1))
>>> swap_dropout(net)
1
>>> _ = torch.manual_seed(0)
>>> y = net[1](torch.ones(100_000))
>>> [round(v, 4) for v in sorted(set(y.tolist()))], round(float((y == 0).float().mean()), 2), round(float(y.mean()), 2)
([0.0, 1.1111], 0.1, 1.0)
>>> net.eval()[1](torch.ones(3)).tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import torch
from torch import nn

MASKS = ("bits", "native")  # TrainConfig.dropout_masks: this module's masks, or PyTorch's


class MaskDropout(nn.Dropout):
    """``nn.Dropout`` (same ``p``, no-op in eval) whose keep-mask comes from 16 random bits per element.

    One 64-bit draw (``random_`` over the whole int64 range: the default range leaves the top bit 0)
    yields four 16-bit uniforms, so the generator runs a quarter as often as ``bernoulli_`` or
    ``rand`` would. ``p`` is rounded to a multiple of 1/65536 and the kept values are scaled by the
    rounded keep rate, so the output's expectation is the input, as with ``nn.Dropout``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return torch.zeros_like(x)
        drop = round(self.p * 65536)  # int16 values below -32768 + drop are dropped
        n = x.numel()
        bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_(-(2**63), None)
        keep = bits.view(torch.int16)[:n].view(x.shape) >= drop - 32768
        return x * keep * (65536 / (65536 - drop))


def swap_dropout(module: nn.Module) -> int:
    """Replace every ``nn.Dropout`` under ``module`` (LoRA's included) by ``MaskDropout``; returns how many."""
    swapped = 0
    for parent in module.modules():
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, MaskDropout(child.p, inplace=False))
                swapped += 1
    return swapped
