"""owui: the Open WebUI backend as five HTTP services."""

__version__ = "0.1.0"
