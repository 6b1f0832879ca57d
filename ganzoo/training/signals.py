"""Stopping a run cleanly on SIGTERM or SIGINT: finish the step, checkpoint, say so.

A scheduler's SIGTERM (or Ctrl-C) used to end a run at once, losing every step
since the last checkpoint. `StopOnSignal` installs handlers for the length of a
run only (never on import) and puts the previous ones back afterwards.
"""

import signal
import threading

import keras

from ganzoo.errors import Interrupted

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal(keras.callbacks.Callback):
    """A context manager that catches `SIGNALS`, and the callback that acts on them.

    The handler only records the first signal: Python runs it between
    bytecodes, so the step (the graph call) in flight finishes, then training
    stops at its end and the epoch-end callbacks checkpoint it. Later signals
    are ignored, so one arriving while the checkpoint is written cannot
    interrupt the write. Outside the main thread, Python allows no handlers:
    the run then stops as it did before.
    """

    def __init__(self):
        super().__init__()
        self.signum = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        return False

    def _handle(self, signum, frame):
        if self.signum is None:
            self.signum = signum

    @property
    def name(self):
        return signal.Signals(self.signum).name

    def interrupted(self, step, checkpoint):
        """The `Interrupted` to raise once the run has stopped at `step`."""
        return Interrupted(f"stopped by {self.name} at step {step}; checkpoint: "
                           f"{checkpoint or 'none at this step'}; to resume, run the same "
                           "command again (same --workdir)", self.signum)

    # Last among the callbacks: a signal that arrives during any of them stops here.
    def on_train_batch_end(self, batch, logs=None):
        if self.signum is not None:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.signum is not None:
            self.model.stop_training = True
