"""Adam with TensorFlow's fused update kernel.

Keras's Adam writes each variable's update as about twenty small ops; on the
small networks of 2-D data those ops, not the matrix products, set the step
time. `FusedAdam` runs the same update (Kingma & Ba 2015, Algorithm 1, with
epsilon outside the square root as Keras has it) as one `ResourceApplyAdam`
per variable, and falls back to Keras's code where the kernel does not apply
(AMSGrad, sparse gradients, variables under a `tf.distribute` strategy).

With `use_ema` and `ema_warmup`, the moving average's decay ramps up as
`min(ema_momentum, (1 + t) / (10 + t))` after t updates (the `num_updates`
rule of `tf.train.ExponentialMovingAverage`): a short run's average then spans
roughly its last tenth instead of reaching back to the random initial weights
(with a fixed 0.999, 22% of the average is still the initial weights after
1,500 updates).
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="ganzoo")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, one fused kernel per variable update.

    Args:
        ema_warmup: ramp the moving average's decay up from 0 (see the module
            docstring); only with `use_ema=True`.
        **kwargs: `keras.optimizers.Adam`'s arguments.
    """

    def __init__(self, *args, ema_warmup=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.ema_warmup = bool(ema_warmup)

    def get_config(self):
        return {**super().get_config(), "ema_warmup": self.ema_warmup}

    def _update_model_variables_moving_average(self, trainable_variables):
        if not (self.use_ema and self.ema_warmup):
            return super()._update_model_variables_moving_average(trainable_variables)
        # Called before `iterations` counts this update: t updates came before.
        t = tf.cast(self.iterations, "float32")
        decay = tf.minimum(tf.cast(self.ema_momentum, "float32"), (1.0 + t) / (10.0 + t))
        decay = tf.where(t > 0, decay, 0.0)  # the first update copies, as Keras's does
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                d = tf.cast(decay, var.dtype)
                average.assign(d * average + (1 - d) * var)

    def update_step(self, gradient, variable, learning_rate):
        if (self.amsgrad or isinstance(gradient, tf.IndexedSlices) or tf.distribute.has_strategy()
                or keras.backend.backend() != "tensorflow"):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index], self._velocities[index]
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(momentum), v=_handle(velocity),
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
            use_locking=False,
        )


def _handle(variable):
    if isinstance(variable, keras.Variable):
        variable = variable.value  # the tf.Variable inside
    return variable.handle
