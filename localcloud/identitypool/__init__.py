"""The local Cognito identity pool: GetId, GetCredentialsForIdentity and credentials for S3."""
