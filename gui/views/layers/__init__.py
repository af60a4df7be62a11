"""The views of one image's layers: feature maps, the large channel, the
hierarchy strip, backprop and one neuron.
Each module paints frozen results; see ``gui.views``.
"""
