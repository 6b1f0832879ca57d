"""One training step on one device and under MirroredStrategy over two logical CPUs.

Run as a script (a fresh process, because logical devices must be configured
before TensorFlow starts): prints JSON with the largest differences in losses
and weights. Both runs see the same global batch and the same latent noise:
each replica takes its rows of one fixed global noise tensor.
"""

import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
if __name__ == "__main__" and sys.argv[1] not in ("noise", "jit"):
    # One op at a time. With ops running concurrently, TensorFlow's CPU executor
    # gave the one-device wgan_gp step one of two other gradient penalties in
    # 14 of 1,200 runs (2026-12-06, 2-core EPYC: 2 op threads, or 1 intra- and 8
    # inter-op threads; CI failed on it once); 0 of 200 with Grappler off, 0 of
    # 200 serial (tools/repeat_step.py, docs/benchmarks/repeat_step/). Serial,
    # both runs are deterministic: the comparison tests our replica arithmetic.
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)

import keras
import numpy as np

import ganzoo

GLOBAL_BATCH = 8


def fixed_noise(model, calls):
    """Replace the model's noise with slices of fixed global tensors."""
    rng = np.random.default_rng(1)
    draws = [rng.normal(size=(GLOBAL_BATCH, model.latent_dim)).astype("float32") for _ in range(20)]
    uniforms = [rng.uniform(size=(GLOBAL_BATCH, 1, 1, 1)).astype("float32") for _ in range(20)]

    def take(tensors, kind):
        def draw(*args):
            context = tf.distribute.get_replica_context()
            replica = int(tf.get_static_value(context.replica_id_in_sync_group))
            # Mirrored traces the step once per replica: count draws per replica.
            index = calls.get((kind, replica), 0)
            calls[(kind, replica)] = index + 1
            per_replica = GLOBAL_BATCH // context.num_replicas_in_sync
            start = replica * per_replica
            return tf.constant(tensors[index][start : start + per_replica])
        return draw

    model.latent_noise = take(draws, "latent")
    model.uniform_noise = take(uniforms, "uniform")


def one_step(name, strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = ganzoo.create_model(name, data_shape=(8, 8, 1), seed=0, base_filters=8, latent_dim=8,
                                    **({"n_critic": 2} if name == "wgan_gp" else {}))
        model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    fixed_noise(model, {})
    n = GLOBAL_BATCH * model.real_batches_per_step
    x = np.random.default_rng(2).uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
    replicas = strategy.num_replicas_in_sync
    if model.real_batches_per_step > 1 and replicas > 1:
        # Replica r takes the r-th share of the batch and splits it into critic
        # minibatches; order rows so global critic minibatch k is the same rows
        # as on one device.
        shares = [np.split(chunk, replicas) for chunk in np.split(x, model.real_batches_per_step)]
        x = np.concatenate([chunk_shares[r] for r in range(replicas) for chunk_shares in shares])
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(n)
    history = model.fit(dataset, epochs=1, verbose=0)
    return {k: float(v[-1]) for k, v in history.history.items()}, [w.numpy() for w in model.weights]


def main(name):
    single_losses, single_weights = one_step(name, tf.distribute.OneDeviceStrategy("/cpu:0"))
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    mirrored_losses, mirrored_weights = one_step(name, mirrored)
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "losses": {"single": single_losses, "mirrored": mirrored_losses},
        # Gradient norms are per replica (of its share of the batch), so they differ by design.
        "max_loss_diff": max(abs(single_losses[k] - mirrored_losses[k]) for k in single_losses
                             if not k.endswith("grad_norm")),
        "max_weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(single_weights, mirrored_weights)),
        "max_weight_change": max(float(np.max(np.abs(a - b)))
                                 for a, b in zip(single_weights, one_step_initial(name))),
    }))


def one_step_initial(name):
    keras.utils.set_random_seed(0)
    model = ganzoo.create_model(name, data_shape=(8, 8, 1), seed=0, base_filters=8, latent_dim=8,
                                **({"n_critic": 2} if name == "wgan_gp" else {}))
    return [w.numpy() for w in model.weights]


def replica_noise():
    """Latent noise each replica draws in normal training, under MirroredStrategy."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = ganzoo.create_model("dcgan", data_shape=(8, 8, 1), seed=0, base_filters=8)

    @tf.function
    def draw():
        return strategy.run(lambda: model.latent_noise(4))

    per_replica = strategy.experimental_local_results(draw())
    again = strategy.experimental_local_results(draw())
    print(json.dumps({
        "replica_diff": float(np.max(np.abs(per_replica[0].numpy() - per_replica[1].numpy()))),
        "step_diff": float(np.max(np.abs(per_replica[0].numpy() - again[0].numpy()))),
    }))


def jit_under_mirrored(workdir):
    """train() with jit_compile over two replicas: a clear refusal, not an XLA crash."""
    from ganzoo.config import TrainConfig
    from ganzoo.errors import GanzooError
    from ganzoo.train import train

    config = TrainConfig(model="dcgan", strategy="mirrored", jit_compile=True, steps=1)
    try:
        train(config, workdir)
    except GanzooError as e:
        print(json.dumps({"error": str(e)}))
        return
    print(json.dumps({"error": None}))


if __name__ == "__main__":
    if sys.argv[1] == "noise":
        replica_noise()
    elif sys.argv[1] == "jit":
        jit_under_mirrored(sys.argv[2])
    else:
        main(sys.argv[1])
