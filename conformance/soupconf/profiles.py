"""Example budgets relative to the active Hypothesis profile."""

from hypothesis import settings


def scaled(fraction: float, minimum: int = 1, maximum: int = 10**9) -> int:
    """max_examples for a test whose examples cost seconds: a fraction of the
    active profile's count (README lists which tests and why)."""
    n = settings().max_examples
    return max(minimum, min(maximum, int(n * fraction)))
