"""What a report needs to know that the database does not: stock sizes, timescales, list lengths."""

from __future__ import annotations

from dataclasses import dataclass

from models.timescales import CODE_2024, Timescales


@dataclass(frozen=True)
class ReportSettings:
    """Built by `bot.settings.TriageSettings.report()`; tests build it directly.

    CH01 is per 1,000 homes, so it needs the stock counts, which only the landlord knows. The TSMs
    report low-cost rental (LCRA) and low-cost home ownership (LCHO) stock separately: a complaint
    counts as LCHO when its resident's tenancy reference starts with one of `lcho_tenancy_prefixes`,
    and as LCRA otherwise (the system records no tenure of its own).
    """

    homes_low_cost_rental: int | None = None
    homes_low_cost_home_ownership: int | None = None
    lcho_tenancy_prefixes: tuple[str, ...] = ()
    timescales: Timescales = CODE_2024
    # How many categories the trend table compares with the previous period.
    top_categories: int = 5
    # Longest list of case references printed (late acknowledgements, oldest open requests, ...).
    list_limit: int = 100

    @property
    def homes_total(self) -> int | None:
        counts = [n for n in (self.homes_low_cost_rental, self.homes_low_cost_home_ownership) if n is not None]
        return sum(counts) if counts else None

    @property
    def splits_stock(self) -> bool:
        """Both stock types configured and a way to tell their residents apart."""
        return bool(self.homes_low_cost_rental and self.homes_low_cost_home_ownership and self.lcho_tenancy_prefixes)
