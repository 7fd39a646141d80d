"""flashdeck's version, apart so that any module can name it without importing the package's API."""

__version__ = "0.2.0"
