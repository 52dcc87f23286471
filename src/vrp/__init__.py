"""HIPS Violence Reduction Partnership serious-violence dashboard."""

__version__ = "0.1.0"
