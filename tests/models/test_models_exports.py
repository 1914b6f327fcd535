from __future__ import annotations

import loopml.models


def test_public_names_are_pinned() -> None:
    assert sorted(loopml.models.__all__) == [
        "LoadedModel",
        "MANIFEST_NAME",
        "MODEL_FILE",
        "Manifest",
        "REFERENCE_FILE",
        "load_model",
        "save_model",
    ]
