"""``python -m layer_inspector``: the same as the ``layer-inspector`` command."""

import sys

from layer_inspector.console import main

sys.exit(main())
