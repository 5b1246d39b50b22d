from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from classifier.model import BUNDLED_DIR, MODEL_FILE, TriageModel


@dataclass(frozen=True)
class ClassifierSettings:
    """Where the current model lives. None means the model bundled with the package."""

    model_dir: Path | None = None

    def current_dir(self) -> Path:
        if self.model_dir is not None and (self.model_dir / MODEL_FILE).exists():
            return self.model_dir
        return BUNDLED_DIR


def load_current(settings: ClassifierSettings) -> TriageModel:
    return TriageModel.load(settings.current_dir())
