"""The local stack's outbox: messages Cognito would have e-mailed (codes), read over HTTP."""

from __future__ import annotations

import requests
from django.conf import settings


def latest_code(recipient: str) -> str:
    """The newest code sent to `recipient`."""
    messages = requests.get(f"{settings.COGNITO_DOMAIN}/_outbox.json", timeout=10).json()
    return next(m["code"] for m in messages if m["recipient"] == recipient)
