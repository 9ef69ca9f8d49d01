"""The claimsift network: one encoder, a sentence-label head, a token head for attribution
spans and a named/anonymous head, trained together (multi-task).

Tensors stay inside this module and :mod:`claimsift.model.detector`.
"""

from __future__ import annotations

import torch
from claimsift.model.labels import LABELS, TAGS
from torch import nn


class ClaimNet(nn.Module):
    """Encoder + heads. ``encoder`` is any Hugging Face ``AutoModel`` (optionally wrapped by peft)."""

    def __init__(self, encoder: nn.Module, hidden_size: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.label_head = nn.Linear(2 * hidden_size, len(LABELS))
        self.tag_head = nn.Linear(hidden_size, len(TAGS))
        self.named_head = nn.Linear(2 * hidden_size, 1)

    def heads_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def forward(self, input_ids, attention_mask, sentence_mask, token_type_ids=None):
        """Logits for each row's sentence(s).

        ``sentence_mask`` is ``(B, T)`` in the pair layout (one sentence per row, pooled with the
        row's [CLS]) or ``(B, S, T)`` in the window layout (S sentences per row, each pooled with
        its own first token, since [CLS] belongs to the whole row); label and named logits are then
        ``(B, S, ...)``. Tag logits are per token, ``(B, T, len(TAGS))``, in both.
        """
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state  # (B, T, H)
        if sentence_mask.dim() == 3:  # window layout
            m = sentence_mask.to(hidden.dtype)  # (B, S, T)
            mean = (m @ hidden) / m.sum(-1, keepdim=True).clamp(min=1.0)  # (B, S, H)
            at = sentence_mask.argmax(-1)  # (B, S): each member's first token
            lead = torch.gather(hidden, 1, at.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
            pooled = self.dropout(torch.cat([lead, mean], dim=-1))  # (B, S, 2H)
        else:
            m = sentence_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1): the target sentence only
            mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, H)
            pooled = self.dropout(torch.cat([hidden[:, 0], mean], dim=-1))  # (B, 2H)
        return {
            "label_logits": self.label_head(pooled),  # (B, 5) or (B, S, 5)
            "tag_logits": self.tag_head(self.dropout(hidden)),  # (B, T, len(TAGS))
            "named_logits": self.named_head(pooled).squeeze(-1),  # (B,) or (B, S)
        }


def multitask_loss(out, labels, tags, named, *, weights=None, class_weights=None, tag_weight=0.5, named_weight=0.2,
                   soft_labels=None, soft_weight=0.0):
    """Label cross-entropy + token-tag cross-entropy + named BCE (named = -1 where unknown).

    ``weights`` (B,) scale each sentence's label loss (per-source weights);
    ``labels`` may be -100 (context-only sentences); ``soft_labels`` (B, 5, or NaN rows) adds a
    distillation term against a teacher's probabilities.
    """
    per = nn.functional.cross_entropy(out["label_logits"], labels, weight=class_weights, ignore_index=-100,
                                      reduction="none")  # (B,)
    has = labels != -100
    w = (weights if weights is not None else torch.ones_like(per)) * has
    loss = (per * w).sum() / w.sum().clamp(min=1e-6)
    n_tags = out["tag_logits"].shape[-1]
    tag_loss = nn.functional.cross_entropy(
        out["tag_logits"].reshape(-1, n_tags), tags.reshape(-1), ignore_index=-100
    )
    if not torch.isnan(tag_loss):
        loss = loss + tag_weight * tag_loss
    known = named >= 0
    if known.any():
        loss = loss + named_weight * nn.functional.binary_cross_entropy_with_logits(
            out["named_logits"][known], named[known].to(out["named_logits"].dtype)
        )
    if soft_labels is not None and soft_weight > 0:
        have = ~torch.isnan(soft_labels[:, 0])
        if have.any():
            logp = nn.functional.log_softmax(out["label_logits"][have], dim=-1)
            loss = loss + soft_weight * -(soft_labels[have] * logp).sum(-1).mean()
    return loss
