"""What the sign-in side announces; other apps react in their own receivers."""

from django.dispatch import Signal

# Verified claims about a user arrived: at sign-in, at each token refresh (a silent sign-in),
# and when the API first sees an access token's owner. Sent after the user row is saved, inside
# its transaction. Arguments: `user`, `claims` (the verified ID-token claims, or the pool's
# attributes), `access_token` (the fresh access token at sign-in, else None).
user_signed_in = Signal()

# A user is deleting their own account, before anything is deleted at Cognito or locally.
# Arguments: `user`; `request`: the user's own signed-in request, whose session holds their ID
# token, so a receiver can act with the user's own identity-pool credentials (avatars in S3).
# A receiver deletes what its app keeps outside the database (the rows go with the user's row,
# by cascade). It must leave a consistent state if it fails halfway and may raise
# `AccountDeletionBlocked` (with a sentence for the user): the deletion then stops before
# Cognito, the user stays signed in, and deleting again retries every receiver (so receivers
# must be idempotent: what is already gone is not an error).
# Also sent when an operator deletes a user from the admin (accounts.operators.user_delete): then
# `request` is the operator's request, not the user's, and `operator` (else absent) is the
# operator's user; blocking stops the deletion there too.
user_deleting = Signal()

# A user asked for a copy of their data (GDPR Art. 20). Arguments: `user`, `request`.
# Each receiver returns a (section name, JSON-serialisable value) pair, e.g. ("profile", {...});
# the download holds one key per section next to the account's own.
user_data_requested = Signal()

# Values another app keeps in a user's sessions are stale: changed by someone else (a moderator
# removed the user's picture, whose header copy the profiles app keeps in the session). Arguments:
# `user`, `names` (the session keys). accounts drops those keys from every signed-in session of
# the user (accounts.sessions.user_session_values_drop), so each browser's next page reads afresh.
# Send it after the change is committed.
user_session_values_stale = Signal()


class AccountDeletionBlocked(Exception):
    """A `user_deleting` receiver cannot do its part now; the message is for the user."""
