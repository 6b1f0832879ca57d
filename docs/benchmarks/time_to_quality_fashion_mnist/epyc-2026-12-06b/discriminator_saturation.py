# python docs/benchmarks/time_to_quality_fashion_mnist/epyc-2026-12-06b/discriminator_saturation.py runs/ttq-epyc-1206b/runs/sngan-seed0
"""Share of an image discriminator's hidden units whose pre-activation keeps one
sign over a batch (real and generated), per layer; the ring8 diagnosis, on images."""
import sys

import keras
import numpy as np

from ganzoo import checkpoints
from ganzoo.data.pipeline import load_numpy

workdir = sys.argv[1]
model, path = checkpoints.load_latest(workdir)
print("checkpoint:", path)
x = load_numpy("fashion_mnist", "test")
x = x[0] if isinstance(x, tuple) else x
real = np.asarray(x[:512], "float32")
fake = np.asarray(model.sample(512, seed=0))
print("real range", real.min(), real.max(), "fake range", fake.min(), fake.max())
d = model.discriminator
names = [layer.name for layer in d.layers if layer.name.startswith("down") and not layer.name.endswith("norm")]
probe = keras.Model(d.inputs, [d.get_layer(n).output for n in names] + [d.output])
for label, batch in (("real", real), ("fake", fake), ("both", np.concatenate([real, fake]))):
    outs = probe(batch, training=False)
    rows = []
    for n, h in zip(names, outs[:-1]):
        h = np.asarray(h).reshape(len(batch), -1)
        one_sign = np.mean((h > 0).all(0) | (h < 0).all(0))
        rows.append(f"{n}: {100 * one_sign:.0f}% one-sign, std over batch {h.std(0).mean():.3f}")
    logits = np.asarray(outs[-1]).ravel()
    print(label, "|", "; ".join(rows), f"| logit mean {logits.mean():.3f} std {logits.std():.3f}")
