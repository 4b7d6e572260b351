"""The model contract (base.py), the shared machinery of the families, and the families/ themselves."""
