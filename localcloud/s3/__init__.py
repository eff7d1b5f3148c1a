"""S3 in front of moto: SigV4 checks, identity-pool role policies, POST policies and CORS."""
