"""The face CNN's training settings, importable without TensorFlow (for ``--help``)."""

DEFAULT_EPOCHS = 8
BATCH_SIZE = 32
LEARNING_RATE = 3e-3  # the start of a cosine decay to 1% of it over the planned epochs
FINAL_RATE_FRACTION = 0.01
# A tiny data set is seen several times per epoch, each copy augmented anew, so
# that an epoch holds at least this many images (a folder of 150 -> 6 copies; the
# bundled 8,000 are seen once).
MIN_IMAGES_PER_EPOCH = 900
PROBE_COUNT = 4  # images whose activations every snapshot stores
GRADIENT_BATCH = 16  # fixed training images for the recorded gradient norms
STRATEGIES = ("default", "mirrored")
TASKS = ("detector", "recognizer")  # with the bundled data: face/non-face, or which person
# The Keras model's name per task: the status bar and every JSON tell the two apart.
MODEL_NAMES = {"detector": "face_cnn", "recognizer": "face_recognizer"}
# Epochs per task when --epochs is not given. The recogniser's 40 classes of 64 crops
# each need more: at 20 epochs three seeds reached 96.2, 88.8 and 91.2 % held out, at
# 40 epochs 98.8 % for seeds 1 and 2 (docs/units.md, "Which task makes face parts emerge?").
TASK_EPOCHS = {"detector": DEFAULT_EPOCHS, "recognizer": 40}
