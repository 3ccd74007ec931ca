"""derivcheck's symbolic side: proofs (catalog), LaTeX parsing, the document checker, the CLI."""
__version__ = "0.1.0"
