"""Tenant Satisfaction Measures CH01 (complaints per 1,000 homes) and CH02 (responded within the Code).

CH01 counts stage 1 and stage 2 complaints received in the period, as the complaints section does
(refused complaints are reported apart, Code 8.1b). Without a configured homes count there is no rate:
the figure is null rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.complaints import Received, Responded
from reports.settings import ReportSettings
from reports.stats import share


def per_thousand(count: int, homes: int | None) -> float | None:
    return count * 1000 / homes if homes else None


@dataclass(frozen=True)
class StockRate:
    homes: int | None
    stage1: int
    stage2: int
    stage1_per_1000_homes: float | None
    stage2_per_1000_homes: float | None


@dataclass(frozen=True)
class Ch01:
    homes: dict[str, int | None]
    stage1: int
    stage2: int
    stage1_per_1000_homes: float | None
    stage2_per_1000_homes: float | None
    by_stock: dict[str, StockRate] | None
    note: str


def ch01(received: Received, settings: ReportSettings) -> Ch01:
    homes = settings.homes_total
    by_stock: dict[str, StockRate] | None = None
    if settings.splits_stock:
        stock_homes = {
            "low_cost_rental": settings.homes_low_cost_rental,
            "low_cost_home_ownership": settings.homes_low_cost_home_ownership,
        }
        by_stock = {}
        for name, counts in received.by_stock.items():
            by_stock[name] = StockRate(
                homes=stock_homes[name],
                stage1=counts["stage1"],
                stage2=counts["stage2"],
                stage1_per_1000_homes=per_thousand(counts["stage1"], stock_homes[name]),
                stage2_per_1000_homes=per_thousand(counts["stage2"], stock_homes[name]),
            )
        note = (
            "Low-cost home ownership: residents whose tenancy reference starts with "
            + ", ".join(settings.lcho_tenancy_prefixes)
            + "; everyone else counts as low-cost rental."
        )
    elif homes is None:
        note = "No homes count configured (TRIAGE_HOMES_LOW_COST_RENTAL): rates per 1,000 homes cannot be given."
    elif settings.homes_low_cost_rental and settings.homes_low_cost_home_ownership:
        note = (
            "Both stock types are configured but nothing tells their residents apart "
            "(TRIAGE_LCHO_TENANCY_PREFIXES), so the rate is for all homes together."
        )
    else:
        note = "Rate per 1,000 homes of the configured stock."
    return Ch01(
        homes={
            "low_cost_rental": settings.homes_low_cost_rental,
            "low_cost_home_ownership": settings.homes_low_cost_home_ownership,
            "total": homes,
        },
        stage1=received.stage1,
        stage2=received.stage2,
        stage1_per_1000_homes=per_thousand(received.stage1, homes),
        stage2_per_1000_homes=per_thousand(received.stage2, homes),
        by_stock=by_stock,
        note=note,
    )


@dataclass(frozen=True)
class Ch02:
    stage1: Responded
    stage2: Responded
    total: dict[str, int | float | None]


def ch02(responded: dict[str, Responded]) -> Ch02:
    one, two = responded["stage1"], responded["stage2"]
    on_time, total = one.on_time + two.on_time, one.responded + two.responded
    return Ch02(
        stage1=one,
        stage2=two,
        total={"responded": total, "on_time": on_time, "share": share(on_time, total)},
    )
