"""The four fake providers: what each is called, how its ids look and what it speaks."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

# Path prefix of the fake providers on the Cognito origin.
PREFIX = "/_idp/"


@dataclass(frozen=True)
class FakeProvider:
    """One fake identity provider."""

    slug: str
    provider_type: str  # CreateIdentityProvider's ProviderType it stands in for
    label: str
    issuer: str | None  # the real provider's issuer string (None: no ID token, Facebook)
    id_claim: str  # the claim holding the provider's user id (Cognito's username source)

    def user_id(self, email: str) -> str:
        """A stable id shaped like the real provider's, derived from a typed e-mail."""
        digest = hashlib.sha256(f"{self.slug}:{email.strip().lower()}".encode()).hexdigest()
        if self.slug == "google":
            return str(int(digest, 16))[:21]  # Google: 21 digits
        if self.slug == "facebook":
            return str(int(digest, 16))[:17]  # Facebook: 15-17 digits
        if self.slug == "apple":
            return f"000{int(digest[:4], 16) % 1000:03d}.{digest[:32]}.{int(digest[32:36], 16) % 10000:04d}"
        return str(uuid.UUID(digest[:32]))

    def base(self, origin: str) -> str:
        """The provider's base URL on this localcloud origin."""
        return f"{origin}{PREFIX}{self.slug}"


PROVIDERS = {
    p.slug: p
    for p in (
        FakeProvider("google", "Google", "Google", "https://accounts.google.com", "sub"),
        FakeProvider("facebook", "Facebook", "Facebook", None, "id"),
        FakeProvider("apple", "SignInWithApple", "Apple", "https://appleid.apple.com", "sub"),
        FakeProvider("oidc", "OIDC", "Example OIDC", "https://idp.localcloud.test", "sub"),
    )
}
# ProviderType → fake (the generic OIDC one is found by its issuer instead).
BY_TYPE = {p.provider_type: p for p in PROVIDERS.values() if p.provider_type != "OIDC"}
BY_ISSUER = {p.issuer: p for p in PROVIDERS.values() if p.issuer}


def for_provider(provider_type: str, details: dict[str, str]) -> FakeProvider | None:
    """The fake that stands in for a configured identity provider, if any."""
    if provider_type == "OIDC":
        return BY_ISSUER.get(details.get("oidc_issuer", "").rstrip("/"))
    return BY_TYPE.get(provider_type)
