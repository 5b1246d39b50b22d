"""The Code's timescales as data, so a landlord can configure a stricter policy (Code section 6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageTimescale:
    """Working days allowed at one stage."""

    acknowledge: int
    respond: int
    extension_limit: int


@dataclass(frozen=True)
class Timescales:
    stage1: StageTimescale
    stage2: StageTimescale

    def for_stage(self, stage: int) -> StageTimescale:
        if stage == 1:
            return self.stage1
        if stage == 2:
            return self.stage2
        raise ValueError(f"the Code has two complaint stages, not stage {stage}")

    def check_within(self, ceiling: Timescales) -> list[str]:
        """Problems with this policy against the ceiling (the Code): a landlord may only be stricter."""
        problems = []
        for stage in (1, 2):
            mine, code = self.for_stage(stage), ceiling.for_stage(stage)
            for name in ("acknowledge", "respond", "extension_limit"):
                value, limit = getattr(mine, name), getattr(code, name)
                if not 1 <= value <= limit:
                    problems.append(f"stage {stage} {name} must be 1 to {limit} working days, not {value}")
        return problems


# Code 6.2, 6.3, 6.4 (stage 1) and 6.11, 6.14, 6.15 (stage 2).
CODE_2024 = Timescales(
    stage1=StageTimescale(acknowledge=5, respond=10, extension_limit=10),
    stage2=StageTimescale(acknowledge=5, respond=20, extension_limit=20),
)
