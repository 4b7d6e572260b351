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


def _lstm(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.LSTM:
    # torch applies LSTM dropout between stacked layers only; with one layer it would just warn.
    return nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0)


class LSTMAutoencoder(nn.Module):
    """(batch, lookback, n_features) -> the same shape.

    The encoder's last hidden state (top layer) summarises the window; it is repeated at every
    step as the decoder's input, and a linear layer maps the decoder's outputs back to features.
    """

    def __init__(self, n_features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.encoder = _lstm(n_features, hidden_size, num_layers, dropout)
        self.decoder = _lstm(hidden_size, hidden_size, num_layers, dropout)
        self.output = nn.Linear(hidden_size, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.encoder(x)
        code = h[-1].unsqueeze(1).expand(-1, x.shape[1], -1)
        decoded, _ = self.decoder(code)
        return self.output(decoded)


class LSTMClassifier(nn.Module):
    """(batch, lookback, n_features) -> (batch,) logits, read from the last step's output."""

    def __init__(self, n_features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = _lstm(n_features, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


class DenseVAE(nn.Module):
    """Variational autoencoder: n_features -> hidden_dims... -> (mu, logvar) of latent_dim -> back.

    `forward` returns (reconstruction, mu, logvar). In training z is sampled (reparameterisation);
    in eval mode z = mu, so scores are deterministic.
    """

    def __init__(self, n_features: int, hidden_dims: list[int], latent_dim: int, activation: str) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation '{activation}' unknown; use one of {sorted(ACTIVATIONS)}")
        encoder: list[nn.Module] = []
        width = n_features
        for h in hidden_dims:
            encoder += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        self.encoder = nn.Sequential(*encoder)
        self.mu = nn.Linear(width, latent_dim)
        self.logvar = nn.Linear(width, latent_dim)
        decoder: list[nn.Module] = []
        width = latent_dim
        for h in reversed(hidden_dims):
            decoder += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        decoder.append(nn.Linear(width, n_features))
        self.decoder = nn.Sequential(*decoder)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(x)
        mu, logvar = self.mu(hidden), self.logvar(hidden)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-row KL(N(mu, exp(logvar)) || N(0, 1)), summed over latent dimensions."""
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=-1)
