"""localcloud: a local stand-in for the AWS side of the app (Cognito user pool + hosted UI).

Development only. Run ``python -m localcloud``; see README.md.
"""
