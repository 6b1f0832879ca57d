"""Adam with TensorFlow's fused update kernel.

Keras's Adam writes each variable's update as about twenty small ops; on the
small networks of 2-D data those ops, not the matrix products, set the step
time. `FusedAdam` runs the same update (Kingma & Ba 2015, Algorithm 1, with
epsilon outside the square root as Keras has it) as one `ResourceApplyAdam`
per variable, and falls back to Keras's code where the kernel does not apply
(AMSGrad, sparse gradients, variables under a `tf.distribute` strategy).
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="ganzoo")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, one fused kernel per variable update."""

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
