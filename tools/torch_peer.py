"""A PyTorch peer of ganzoo's training steps, for `tools/benchmark.py --peer=torch`.

The same networks (translated layer by layer from ganzoo's Keras models, so
shapes, widths and parameter counts match) and the same algorithms (DCGAN's
alternating non-saturating updates; WGAN-GP's Algorithm 1 with its gradient
penalty), written the way a PyTorch user would: eager modules, `zero_grad`,
`backward`, `step`. PyTorch is an optional benchmark extra
(`pip install -e ".[bench]"`), never a ganzoo dependency.
"""

import time

import numpy as np
import torch
from torch import nn


class _Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape  # (H, W, C), as Keras's Reshape names it

    def forward(self, x):
        if len(self.shape) != 3:
            return x.reshape(x.shape[0], *self.shape)
        h, w, c = self.shape
        return x.reshape(x.shape[0], c, h, w)


def _same_padding(layer):
    kernel, stride = layer.kernel_size[0], layer.strides[0]
    if layer.padding != "same" or (kernel - stride) % 2:
        raise ValueError(f"no PyTorch peer for {layer.name}: padding {layer.padding}, kernel {kernel}")
    return (kernel - stride) // 2


def _activation(name):
    return {"tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "relu": nn.ReLU(), "linear": nn.Identity()}[name]


def torch_peer(model):
    """An `nn.Sequential` with the layers of ganzoo network `model` (a
    single-input Keras functional model of Dense/Conv/BN/activation layers)."""
    modules, channels = [], None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            # Images stay in PyTorch's own NCHW layout throughout (see step_timer).
            channels = layer.batch_shape[-1]
        elif kind == "Dense":
            modules.append(nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.use_bias))
            if layer.activation.__name__ != "linear":
                modules.append(_activation(layer.activation.__name__))
            channels = layer.units
        elif kind in ("Conv2D", "Conv2DTranspose"):
            padding = _same_padding(layer)
            cls = nn.Conv2d if kind == "Conv2D" else nn.ConvTranspose2d
            modules.append(cls(channels, layer.filters, layer.kernel_size[0], layer.strides[0],
                               padding=padding, bias=layer.use_bias))
            channels = layer.filters
        elif kind == "BatchNormalization":
            spatial = isinstance(modules[-1], (nn.Conv2d, nn.ConvTranspose2d, _Reshape))
            norm = nn.BatchNorm2d if spatial else nn.BatchNorm1d
            modules.append(norm(channels, eps=layer.epsilon, momentum=1 - layer.momentum))
        elif kind == "ReLU":
            modules.append(nn.ReLU())
        elif kind == "LeakyReLU":
            modules.append(nn.LeakyReLU(layer.negative_slope))
        elif kind == "Activation":
            modules.append(_activation(layer.activation.__name__))
        elif kind == "Reshape":
            modules.append(_Reshape(layer.target_shape))
            channels = layer.target_shape[-1]
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer.rate))
        else:
            raise ValueError(f"no PyTorch peer for layer {layer.name} ({kind})")
    return nn.Sequential(*modules)


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def _adam(module, model):
    return torch.optim.Adam(module.parameters(), lr=model.learning_rate,
                            betas=(model.beta_1, model.beta_2))


def step_fn(model):
    """A PyTorch training step of ganzoo `model` (`dcgan`, `vanilla` or
    `wgan_gp`): `step(real)` with `real` a float32 tensor of one step's batch."""
    generator, discriminator = torch_peer(model.generator), torch_peer(model.discriminator)
    g_opt, d_opt = _adam(generator, model), _adam(discriminator, model)
    latent_dim = model.latent_dim
    bce = nn.BCEWithLogitsLoss()

    def gan_step(real):
        batch = real.shape[0]
        fake = generator(torch.randn(batch, latent_dim)).detach()
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        fake_logits = discriminator(generator(torch.randn(batch, latent_dim)))
        g_loss = bce(fake_logits, torch.ones_like(fake_logits))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        return g_loss

    def wgan_gp_step(real):
        for real_batch in real.chunk(model.n_critic):
            batch = real_batch.shape[0]
            fake = generator(torch.randn(batch, latent_dim)).detach()
            alpha = torch.rand(batch, *([1] * (real.dim() - 1)))
            mixed = (alpha * real_batch + (1 - alpha) * fake).requires_grad_(True)
            grads, = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
            penalty = ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
            d_loss = discriminator(fake).mean() - discriminator(real_batch).mean() + model.gp_weight * penalty
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
        g_loss = -discriminator(generator(torch.randn(batch, latent_dim))).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        return g_loss

    step = wgan_gp_step if model.registry_name == "wgan_gp" else gan_step
    step.networks = (generator, discriminator)
    return step


def step_timer(model, batch, steps, warmup, seed=0):
    """A callable timing `steps` PyTorch steps of `model`'s peer (s/step)."""
    torch.manual_seed(seed)
    step = step_fn(model)
    rng = np.random.default_rng(seed)
    shape = model.data_shape if len(model.data_shape) == 1 else (model.data_shape[-1], *model.data_shape[:2])
    real = torch.from_numpy(
        rng.uniform(-1, 1, (batch * model.real_batches_per_step, *shape)).astype("float32"))
    for _ in range(warmup):
        step(real)

    def timed():
        started = time.perf_counter()
        for _ in range(steps):
            step(real)
        return (time.perf_counter() - started) / steps

    return timed


def check_same_sizes(model):
    """Both peers' parameter counts equal the Keras networks' (a sanity check)."""
    generator, discriminator = step_fn(model).networks
    keras_counts = [int(sum(np.prod(w.shape) for w in net.trainable_weights))
                    for net in (model.generator, model.discriminator)]
    torch_counts = [parameter_count(generator), parameter_count(discriminator)]
    # BatchNorm's beta/gamma are trainable in both; Keras Dense and Conv biases follow use_bias.
    return keras_counts == torch_counts, keras_counts, torch_counts

