"""A small convolutional classifier, the feature extractor for small datasets.

ImageNet features say little about 8x8 grayscale digits. A classifier trained
on the dataset itself gives classifier-FID, classifier score and the label
accuracy of conditional samples. `tools/train_classifier.py` trains one for
any labelled dataset `ganzoo.data` loads; the `digits` one ships in the package.
"""

import keras
import numpy as np
from keras import layers

from ganzoo import data, fileio
from ganzoo.errors import GanzooError

FEATURES_LAYER = "features"


def build_classifier(input_shape, num_classes, width=32, feature_dim=128, dropout=0.3,
                     pooling="average"):
    """Conv net: two conv blocks, pooling, a `features` layer, then logits.

    `pooling="average"` (global average) suits centred digits; `"flatten"`
    keeps where things are, which clothing classes (shirt or coat) need.
    """
    images = keras.Input(tuple(input_shape), name="images")
    h = images
    for i, filters in enumerate((width, width * 2)):
        h = layers.Conv2D(filters, 3, padding="same", name=f"conv{i}a")(h)
        h = layers.BatchNormalization(momentum=0.9, name=f"bn{i}a")(h)
        h = layers.ReLU()(h)
        h = layers.Conv2D(filters, 3, padding="same", name=f"conv{i}b")(h)
        h = layers.BatchNormalization(momentum=0.9, name=f"bn{i}b")(h)
        h = layers.ReLU()(h)
        if min(h.shape[1], h.shape[2]) >= 4:
            h = layers.MaxPooling2D(name=f"pool{i}")(h)
    h = layers.GlobalAveragePooling2D()(h) if pooling == "average" else layers.Flatten()(h)
    features = layers.Dense(feature_dim, activation="relu", name=FEATURES_LAYER)(h)
    h = layers.Dropout(dropout)(features)
    logits = layers.Dense(num_classes, name="logits")(h)
    return keras.Model(images, logits, name="classifier")


def train_classifier(dataset, out, epochs=40, batch_size=64, seed=0, data_dir=None,
                     image_size=None, train_split="train", test_split="test", verbose=2,
                     shift=1.0 / 8, pooling="average"):
    """Train on `train_split`, report accuracy on `test_split`, save to `out`.

    Returns `(model, test_accuracy)`. Training shifts images by up to `shift` of
    their size, which is all the augmentation small digits need.
    """
    keras.utils.set_random_seed(seed)
    x, y, info = data.load_numpy(dataset, train_split, data_dir=data_dir, image_size=image_size)
    if y is None or info.num_classes < 2:
        raise GanzooError(f"dataset {dataset!r} has no labels; accepted: a labelled dataset")
    if info.kind != "image":
        raise GanzooError(f"dataset {dataset!r} holds points; accepted: an image dataset")
    x_test, y_test, _ = data.load_numpy(dataset, test_split, data_dir=data_dir, image_size=image_size)
    model = build_classifier(info.shape, info.num_classes, pooling=pooling)
    augment = keras.Sequential(
        [layers.RandomTranslation(shift, shift, fill_mode="constant", fill_value=-1.0, seed=seed)]
    )
    inputs = keras.Input(info.shape)
    trainer = keras.Model(inputs, model(augment(inputs)))
    trainer.compile(
        # Cosine decay to zero: the last epochs settle instead of oscillating.
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, epochs * -(-len(x) // batch_size))
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    trainer.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, shuffle=True,
                validation_data=(x_test, y_test))
    predictions = np.argmax(model.predict(x_test, batch_size=256, verbose=0), axis=1)
    accuracy = float(np.mean(predictions == y_test))
    with fileio.atomic_output(out) as tmp:
        model.save(tmp)
    return model, accuracy
