"""Token prices for the cost column of eval reports.

List prices in USD per million tokens (input, output) as published by the providers; checked 2026-11.
A model not listed gets no cost (None, shown as "unknown"), never a guess. The offline model is free.
"""

from __future__ import annotations

__all__ = ["PRICES_PER_MILLION", "cost_usd"]

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "offline": (0.0, 0.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
}


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """Cost of one call, or None when the model's price is not known."""
    name = model.split(":", 1)[-1]
    price = PRICES_PER_MILLION.get(name)
    if price is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
