"""GAN losses as pure functions of discriminator (critic) outputs.

Every loss returns the mean over the batch. Logits are the raw, pre-sigmoid
discriminator outputs, so the log-sigmoid terms use the stable `softplus` form:
log D(x) = -softplus(-l), log(1 - D(x)) = -softplus(l).
"""

import tensorflow as tf
from keras import ops


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of the discriminator: -log D(x) - log(1 - D(G(z)))."""
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits):
    """Non-saturating generator loss: -log D(G(z)) (Goodfellow et al. 2014, sec. 3)."""
    return ops.mean(ops.softplus(-fake_logits))


def minimax_generator_loss(fake_logits):
    """The original minimax generator loss: log(1 - D(G(z))). Saturates early on."""
    return -ops.mean(ops.softplus(fake_logits))


def critic_loss(real_scores, fake_scores):
    """Wasserstein critic loss: E[f(G(z))] - E[f(x)]."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """Wasserstein generator loss: -E[f(G(z))]."""
    return -ops.mean(fake_scores)


def gradient_penalty(critic, real, fake, alpha):
    """WGAN-GP penalty E[(||grad f(x_hat)||_2 - 1)^2] (Gulrajani et al. 2017, eq. 3).

    Args:
        critic: callable mapping a batch to scores of shape (batch, 1).
        real, fake: batches of the same shape.
        alpha: interpolation weights, shape (batch, 1, ..., 1), uniform in [0, 1].
    """
    interpolates = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = critic(interpolates)
    grads = tape.gradient(scores, interpolates)
    grads = ops.reshape(grads, (ops.shape(grads)[0], -1))
    # The epsilon keeps the norm's gradient finite where grads == 0.
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=1) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of the discriminator: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]
    (Lim & Ye 2017; Miyato et al. 2018, eq. 17)."""
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """Hinge generator loss: -E[D(G(z))]."""
    return -ops.mean(fake_logits)


def relativistic_discriminator_loss(real_logits, fake_logits):
    """Relativistic pairing loss of the discriminator: E[softplus(D(G(z)) - D(x))],
    each fake paired with one real (Jolicoeur-Martineau 2018; Huang et al. 2024, eq. 2)."""
    return ops.mean(ops.softplus(fake_logits - real_logits))


def relativistic_generator_loss(real_logits, fake_logits):
    """Relativistic pairing loss of the generator: E[softplus(D(x) - D(G(z)))]."""
    return ops.mean(ops.softplus(real_logits - fake_logits))


def zero_centered_penalty(discriminator, x):
    """E[||grad_x D(x)||^2], the zero-centred gradient penalty at `x`: R1 on real
    data, R2 on fakes (Mescheder et al. 2018, eq. 9, without the gamma / 2).

    Args:
        discriminator: callable mapping a batch to logits of shape (batch, 1) or
            (batch / pack, 1); the gradient is that of their sum, so each example
            gets its own gradient.
        x: the batch at which the gradient is taken.
    """
    x = ops.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(discriminator(x))
    grads = tape.gradient(total, x)
    grads = ops.reshape(grads, (ops.shape(grads)[0], -1))
    return ops.mean(ops.sum(ops.square(grads), axis=1))


def ranking_accuracy(real_outputs, fake_outputs):
    """Share of (real, fake) pairs the discriminator ranks right, D(x_i) > D(G(z_i)).

    Threshold-free, so it means the same for logits, hinge outputs and
    Wasserstein critics: 0.5 is a discriminator that cannot tell, 1.0 one
    that wins outright.
    """
    real = ops.reshape(ops.cast(real_outputs, "float32"), (-1,))
    fake = ops.reshape(ops.cast(fake_outputs, "float32"), (-1,))
    n = ops.minimum(ops.shape(real)[0], ops.shape(fake)[0])
    return ops.mean(ops.cast(real[:n] > fake[:n], "float32"))
