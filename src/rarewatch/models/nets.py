"""Plain torch networks, free of training logic (the LightningModules wrap them)."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU}


class DenseAutoencoder(nn.Module):
    """n_features -> hidden_dims... -> n_features; the narrowest hidden layer is the bottleneck."""

    def __init__(self, n_features: int, hidden_dims: list[int], activation: str, dropout: float) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation '{activation}' unknown; use one of {sorted(ACTIVATIONS)}")
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden_dims:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def reconstruction_error(net: nn.Module, x: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """Per-row mean squared reconstruction error, in eval mode and without gradients."""
    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            out.append(((net(xb) - xb) ** 2).mean(dim=1))
    return torch.cat(out) if out else torch.empty(0)
