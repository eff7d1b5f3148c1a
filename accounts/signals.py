"""What the sign-in side announces; other apps react in their own receivers."""

from django.dispatch import Signal

# Verified claims about a user arrived: at sign-in, at each token refresh (a silent sign-in),
# and when the API first sees an access token's owner. Sent after the user row is saved, inside
# its transaction. Arguments: `user`, `claims` (the verified ID-token claims, or the pool's
# attributes), `access_token` (the fresh access token at sign-in, else None).
user_signed_in = Signal()
