"""A PyTorch peer of ganzoo's training steps, for `tools/benchmark.py --peer=torch`.

The same networks (translated layer by layer from ganzoo's Keras models, so
shapes, widths and parameter counts match, and started from the Keras networks'
initial weights: `tests/test_torch_peer.py` checks both give the same outputs)
and the same algorithms (DCGAN's
alternating non-saturating updates; WGAN-GP's Algorithm 1 with its gradient
penalty), written the way a PyTorch user would: eager modules, `zero_grad`,
`backward`, `step`. PyTorch is an optional benchmark extra
(`pip install -e ".[bench]"`), never a ganzoo dependency.
"""

import sys
import time

import numpy as np

# TensorFlow >= 2.20 loads with RTLD_GLOBAL, and Triton (a GPU compiler that CUDA
# builds of torch install, imported by torch.optim through torch._dynamo) then
# segfaults on import: tensorflow/tensorflow#124205. This CPU peer never compiles
# a Triton kernel, so torch is told Triton is absent.
if "triton" not in sys.modules:
    sys.modules["triton"] = None

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


def _nhwc_order(shape):
    """For a flat vector of an (H, W, C) tensor: the Keras (channels-last) index
    that each position in PyTorch's (C, H, W) order holds."""
    return np.arange(int(np.prod(shape))).reshape(shape).transpose(2, 0, 1).ravel()


def _reshaped_after(layers, i):
    """The 3-D target shape of the Reshape that the Dense at `i` feeds, if any."""
    for layer in layers[i + 1:]:
        kind = type(layer).__name__
        if kind == "Reshape":
            return layer.target_shape if len(layer.target_shape) == 3 else None
        if kind not in ("BatchNormalization", "ReLU", "LeakyReLU", "Activation", "Dropout"):
            return None
    return None


def load_keras_weights(module, model):
    """Copies Keras network `model`'s weights and batch-norm statistics into its
    peer `module` (from `torch_peer(model)`), so both compute the same function.
    Flat features are reordered where Keras flattens or reshapes channels-last."""
    params = iter(m for m in module if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d,
                                                      nn.BatchNorm1d, nn.BatchNorm2d)))
    flat_in, order = None, None  # reorderings of the current flat features

    def put(tensor, value):
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype="float32")))

    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            kind = type(layer).__name__
            if kind == "Flatten":
                flat_in = _nhwc_order(layer.input.shape[1:])
            elif kind == "Dense":
                target = next(params)
                kernel = np.asarray(layer.kernel)
                if flat_in is not None:
                    kernel = kernel[flat_in]
                reshaped = _reshaped_after(model.layers, i)
                order = _nhwc_order(reshaped) if reshaped else None
                if order is not None:
                    kernel = kernel[:, order]
                put(target.weight, kernel.T)
                if layer.use_bias:
                    bias = np.asarray(layer.bias)
                    put(target.bias, bias if order is None else bias[order])
                flat_in = None
            elif kind in ("Conv2D", "Conv2DTranspose"):
                # Keras (kh, kw, in, out) and transposed (kh, kw, out, in) both
                # become PyTorch's (out, in, kh, kw) and (in, out, kh, kw).
                target = next(params)
                put(target.weight, np.asarray(layer.kernel).transpose(3, 2, 0, 1))
                if layer.use_bias:
                    put(target.bias, np.asarray(layer.bias))
                order = None
            elif kind == "BatchNormalization":
                target = next(params)
                for name, value in (("weight", layer.gamma), ("bias", layer.beta),
                                    ("running_mean", layer.moving_mean),
                                    ("running_var", layer.moving_variance)):
                    if value is not None:
                        value = np.asarray(value)
                        put(getattr(target, name), value if order is None else value[order])
            elif kind == "Reshape":
                order = None


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def _adam(module, model):
    return torch.optim.Adam(module.parameters(), lr=model.learning_rate,
                            betas=(model.beta_1, model.beta_2))


def step_fn(model):
    """A PyTorch training step of ganzoo `model` (`dcgan`, `vanilla` or
    `wgan_gp`): `step(real)` with `real` a float32 tensor of one step's batch."""
    generator, discriminator = torch_peer(model.generator), torch_peer(model.discriminator)
    load_keras_weights(generator, model.generator)  # the same initialisation
    load_keras_weights(discriminator, model.discriminator)
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

