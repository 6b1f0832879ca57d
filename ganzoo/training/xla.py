"""`jit_compile=auto`: time train steps with and without XLA on the real model
and a batch of the real shape, and keep the faster.

The measurement trains the model itself for a few steps, so every variable the
step touches (weights, both optimizers, the RNG state, the loss trackers) is
snapshotted first and restored after: the run that follows is the one it would
have been without measuring.
"""

import statistics
import time

import keras
import tensorflow as tf


class _StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def _state_variables(model):
    found = {}
    for v in [*model.variables, model.seed_generator.state, *model.g_optimizer.variables,
              *model.d_optimizer.variables]:
        found.setdefault(id(v), v)
    return list(found.values())


def _batch_like(spec):
    """A batch of the shapes and dtypes of `spec`: images in [-1, 1], labels 0.

    Made up rather than drawn, because drawing from the seeded stream would
    reshuffle it and change the batches the run then trains on.
    """

    def make(s):
        if s.dtype.is_floating:
            return tf.random.stateless_uniform(s.shape, seed=(0, 0), minval=-1, maxval=1, dtype=s.dtype)
        return tf.zeros(s.shape, s.dtype)

    return tf.nest.map_structure(make, spec)


def _fit(model, batch, calls):
    """Seconds per step of `calls` graph calls (each `steps_per_execution` steps)."""
    per_call = max(int(getattr(model, "steps_per_execution", 1) or 1), 1)
    timer = _StepTimes()
    model.fit(batch, epochs=1, steps_per_epoch=calls * per_call, callbacks=[timer], verbose=0,
              shuffle=False)
    return [seconds / per_call for seconds in timer.seconds]


def measure_xla(model, batches, timed_steps=6, round_steps=3):
    """`({False: s, True: s}, {False: fn, True: fn}, n)`: the median seconds per
    step without and with XLA over `n` timed steps each, and the two compiled
    train functions.

    Each mode is compiled on one batch of the shape `batches` yields, then they alternate in rounds of
    `round_steps` steps (the first of each round untimed), so slow spells of a
    shared machine hit both. Once one mode is clearly (2x) faster, it stops early.
    """
    repeated = tf.data.Dataset.from_tensors(_batch_like(batches.element_spec)).repeat()
    variables = _state_variables(model)
    snapshot = [v.numpy() for v in variables]
    functions, times = {}, {False: [], True: []}
    try:
        for jit in (False, True):
            model.jit_compile = jit
            model.make_train_function(force=True)
            functions[jit] = model.train_function
            _fit(model, repeated, 1)  # traced (and compiled) here
        while len(times[False]) < timed_steps:
            for jit in (False, True):
                model.train_function = functions[jit]
                times[jit] += _fit(model, repeated, round_steps)[1:]
            ratio = statistics.median(times[False]) / statistics.median(times[True])
            if not 0.5 < ratio < 2:
                break
    finally:
        for v, value in zip(variables, snapshot):
            v.assign(value)
    return {jit: statistics.median(t) for jit, t in times.items()}, functions, len(times[False])
