"""placeholder"""
from typing import Any
def document(*, server: str, demo: bool) -> dict[str, Any]:
    return {}
