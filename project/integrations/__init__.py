"""One module per external system: the only code that imports boto3 or requests.

- `cognito`: the Cognito user pool and its hosted UI (discovery, JWKS, token checks, token
  endpoint, user-pool API) — `cognito.user_pool()`.
- `identity_pool`: the Cognito identity pool (ID tokens, or nobody, traded for temporary AWS
  credentials) — `identity_pool.identity_pool()`.
- `s3`: Amazon S3, always signed with identity-pool credentials — `s3.bucket()`.

Each accessor returns one object per process, built on first use. The object owns the client
and every cache that goes with it; the caches are bounded and thread-safe, and `reset()` empties
them (tests, or after settings change). Every endpoint comes from settings, so the same code
talks to AWS or to the local stack (localcloud/).
"""
