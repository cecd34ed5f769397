"""A self-hosted proof-of-work challenge (ALTCHA) for anonymous submissions.

Workers never log in, so a report costs a bot only a request. The challenge
makes each submission cost a browser a fraction of a second of hashing and a
script the same, with no third-party service: the server signs a challenge,
the page's widget solves it, and each solution is accepted once.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import ChallengeOptionsV1, create_challenge_v1, verify_solution_v1
from sqlalchemy.exc import IntegrityError

from locator.errors import LocatorError
from locator.living import db
from locator.living.models import UsedChallenge

MAX_NUMBER = 50_000
LIFETIME = timedelta(minutes=10)


def issue(hmac_key: str) -> dict[str, Any]:
    """A fresh signed challenge, as the ALTCHA widget expects it."""
    ch = create_challenge_v1(ChallengeOptionsV1(hmac_key=hmac_key, max_number=MAX_NUMBER,
                                                expires=datetime.now(UTC) + LIFETIME))
    return dict(ch.to_dict())


def check(cfg: Mapping[str, Any], payload: Any, hmac_key: str) -> None:
    """Accept a solved challenge once; 403 naming the field ``altcha`` otherwise.

    403, not 400: the request is well formed, it only lacks the proof of work.
    """
    if not cfg["REPORT_CHALLENGE"]:
        return
    bad = LocatorError(403, "challenge_failed",
                       "the anti-spam check did not pass; reload the page and try again",
                       "altcha")
    if not isinstance(payload, str) or not payload or len(payload) > 2000:
        raise bad
    try:
        ok, _err = verify_solution_v1(payload, hmac_key, check_expires=True)
        signature = str(json.loads(base64.b64decode(payload))["signature"])[:128]
    except (ValueError, KeyError, TypeError):
        raise bad from None
    if not ok:
        raise bad
    try:
        with db.session(cfg) as s:
            s.add(UsedChallenge(signature=signature))
    except IntegrityError:
        raise bad from None
