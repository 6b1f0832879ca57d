"""The model registry: names to `keras.Model` subclasses.

    @register_model("wgan_gp")
    class WGANGP(GAN): ...

    model = create_model("wgan_gp", data_shape=(28, 28, 1))

The registry imports no model: importing `ganzoo.models` (which `ganzoo`'s
`create_model` and `list_models` do) registers the built-in variants.
"""

import keras

from ganzoo.errors import GanzooError

_MODELS = {}
# Keyword arguments every keras.Model takes besides its hyperparameters.
_KERAS_KWARGS = ("name", "dtype", "trainable")


def register_model(name):
    """Class decorator that registers a GAN class under `name`."""

    def decorator(cls):
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {_MODELS[name]}")
        _MODELS[name] = cls
        cls.registry_name = name
        # Lets keras.models.load_model rebuild the class from a .keras file.
        return keras.saving.register_keras_serializable(package="ganzoo")(cls)

    return decorator


def list_models():
    """Sorted names of every registered model."""
    return sorted(_MODELS)


def get_model_class(name):
    """The class registered as `name`; an unknown name lists the valid ones."""
    if name not in _MODELS:
        raise GanzooError(f"unknown model {name!r}; accepted: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def create_model(name, **hyperparameters):
    """Build the registered model `name` from `data_shape` and its hyperparameters."""
    cls = get_model_class(name)
    accepted = ["data_shape", *cls.hyperparameter_names()]
    unknown = sorted(set(hyperparameters) - set(accepted) - set(_KERAS_KWARGS))
    if unknown:
        raise GanzooError(
            f"bad hyperparameters for model {name!r}: unknown {unknown[0]!r}; "
            f"accepted: {', '.join(accepted)}"
        )
    cls.check_hyperparameters(hyperparameters)
    return cls(**hyperparameters)
