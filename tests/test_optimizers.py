"""`FusedAdam`: Keras's Adam update, one fused kernel per variable."""

import keras
import numpy as np
import pytest

from ganzoo.models.optimizers import FusedAdam


@pytest.mark.parametrize("beta_1, beta_2", [(0.5, 0.999), (0.0, 0.99)])
def test_fused_adam_matches_keras_adam(beta_1, beta_2):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 3)).astype("float32")
    grads = [rng.normal(size=(5, 3)).astype("float32") for _ in range(4)]
    results = []
    for optimizer in (keras.optimizers.Adam(1e-2, beta_1, beta_2), FusedAdam(1e-2, beta_1, beta_2)):
        variable = keras.Variable(start)
        optimizer.build([variable])
        for grad in grads:
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(grad), variable)])
        results.append(keras.ops.convert_to_numpy(variable))
    assert not np.allclose(results[0], start)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)


def test_fused_adam_matches_the_closed_form_of_one_step():
    # After one step Adam moves each weight by lr * g / (|g| + eps'), eps' = eps / sqrt(1 - beta_2).
    variable = keras.Variable(np.array([1.0, -2.0], "float32"))
    optimizer = FusedAdam(0.1, beta_1=0.5, beta_2=0.9, epsilon=1e-7)
    optimizer.build([variable])
    grad = np.array([0.5, -3.0], "float32")
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(grad), variable)])
    expected = np.array([1.0, -2.0]) - 0.1 * grad / (np.abs(grad) + 1e-7 / np.sqrt(1 - 0.9))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), expected, rtol=1e-5)


def test_fused_adam_round_trips_through_its_config():
    optimizer = FusedAdam(3e-4, beta_1=0.0, beta_2=0.99)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(again) is FusedAdam and again.get_config() == optimizer.get_config()
