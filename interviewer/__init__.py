"""Local-first mock interviewer for ML, NLP and LLM engineering interviews."""

__version__ = "0.1.0"
