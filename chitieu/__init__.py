"""chitieu: socio-economic targets from Vietnamese provincial news."""

__version__ = "0.1.0"
