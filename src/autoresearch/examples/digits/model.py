"""The model: a small convolutional classifier of 8x8 digit images, in one file.

conv 3x3 (32) -> ReLU -> conv 3x3 (64) -> ReLU -> 2x2 max pool -> flatten -> linear (128) -> ReLU -> linear (10).
Returns logits; eval.py takes the arg max and computes the accuracy itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from einops import rearrange
from jaxtyping import Float
from torch import Tensor, nn


@dataclass
class ModelConfig:
    n_classes: int = 10
    channels: int = 32
    hidden: int = 128
    dropout: float = 0.1


class ConvNet(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.conv1 = nn.Conv2d(1, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, 2 * c, 3, padding=1)
        self.fc = nn.Linear(2 * c * 4 * 4, config.hidden)
        self.head = nn.Linear(config.hidden, config.n_classes)

    def forward(self, images: Float[Tensor, "b h w"]) -> Float[Tensor, "b classes"]:
        x = rearrange(images, "b h w -> b 1 h w")
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.dropout(F.relu(self.fc(rearrange(x, "b c h w -> b (c h w)"))), self.config.dropout, self.training)
        return self.head(x)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
