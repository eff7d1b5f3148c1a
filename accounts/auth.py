"""mozilla-django-oidc's backend, extended through its hooks for Amazon Cognito (reference §6)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts import services
from project.integrations import cognito

logger = logging.getLogger(__name__)


class CognitoAuthenticationBackend(OIDCAuthenticationBackend):
    """Code flow against the Cognito hosted UI; users keyed by `sub`, claims from the ID token.

    Compared with the base class: the endpoints come from the pool's discovery document (cached),
    the ID token is checked as AWS prescribes (iss, aud, token_use, exp, nonce) with a cached JWKS,
    there is no userinfo call (it lacks `cognito:groups`), and the refresh token is kept.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django instantiates the backend on every request (get_user), so nothing here may touch
        # the network: the token endpoint is discovered when a sign-in needs it (get_token).
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.COGNITO_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.COGNITO_CLIENT_SECRET

    def get_user(self, user_id: Any):
        """The signed-in user of a session, unless their account was disabled since (ModelBackend's
        rule; the base class skips it): a disabled user's next request is signed out."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def get_token(self, payload: dict[str, str]) -> dict[str, Any]:
        """Exchange the code at /oauth2/token (client_secret_basic); keep the whole answer."""
        self._token_response = cognito.user_pool().exchange_code(
            code=payload["code"],
            redirect_uri=payload["redirect_uri"],
            code_verifier=payload.get("code_verifier"),
        )
        return self._token_response

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The ID token, verified as AWS prescribes; any doubt is a SuspiciousOperation."""
        try:
            self._id_claims = cognito.user_pool().verify_token(
                token, token_use="id", nonce=kwargs.get("nonce") or ""
            )
            return self._id_claims
        except cognito.InvalidToken as exc:
            logger.warning("ID token refused at sign-in: %s", exc)
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def store_tokens(self, access_token: str, id_token: str) -> None:
        """Hold the tokens on the request: the callback view puts them in the session only once
        the sign-in has succeeded, so a refused sign-in never leaves another account's tokens in
        the current session. They stay server-side, never in a cookie or a page."""
        self.request.cognito_tokens = services.session_values_for_tokens(
            tokens=self._token_response, id_claims=self._id_claims
        )

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The verified ID token's claims: no userinfo call (it has no `cognito:groups`)."""
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub")) and bool(claims.get("email"))

    def filter_users_by_claims(self, claims: dict[str, Any]):
        """Match on the immutable `sub`, never on email (which a user can change)."""
        return self.UserModel.objects.filter(cognito_sub=claims["sub"])

    def create_user(self, claims: dict[str, Any]):
        return services.user_create_from_claims(
            claims=claims, access_token=self._token_response["access_token"]
        )

    def update_user(self, user, claims: dict[str, Any]):
        # The fresh access token goes with the signal: profiles retries a sync Cognito missed.
        return services.user_update_from_claims(
            user=user, claims=claims, access_token=self._token_response["access_token"]
        )
