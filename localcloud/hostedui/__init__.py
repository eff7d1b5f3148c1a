"""Cognito's hosted UI (classic): sign-in pages and the OAuth2/OIDC endpoints."""
