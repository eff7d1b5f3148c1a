"""The Cognito user pool: moto's backend, extended where Cognito is stricter or richer."""
