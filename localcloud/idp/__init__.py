"""Fake external identity providers (Google, Facebook, Sign in with Apple, a generic OIDC one).

Small but real OAuth 2.0 / OpenID Connect servers under ``/_idp/<slug>/`` on the Cognito origin,
so federation can be tried without a Google account: an authorize page where the tester picks a
listed test identity or types one (name, e-mail, verified or not), a token endpoint that
authenticates its client, userinfo (Facebook: the Graph API's ``/me``) and, for the OIDC-style
ones, their own signing key (``idp.json`` in the data dir, 0600) and JWKS.
"""
