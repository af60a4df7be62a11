"""Training the face networks: the loop, augmentation, checkpoints, the ``train``
command, rebuilding the shipped models (``make_default``) and fine-tuning a
user's loaded model (``fine_tuning``). ``loop`` and ``fine_tuning`` import TensorFlow.
"""
