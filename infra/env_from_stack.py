"""`make env-from-stack STACK=<name>`: a deployed stack's Outputs as the app's environment file.

Each documented Output of infra/template.yaml is one variable (CognitoUserPoolId ->
COGNITO_USER_POOL_ID); only those (``OUTPUTS``) are written: any other Output of the stack is ignored
with a warning, so a stack cannot set PATH, LD_PRELOAD, DJANGO_DEBUG... in the app's environment.
COGNITO_CLIENT_SECRET is read from the user pool (DescribeUserPoolClient), not from an Output that
anyone allowed to describe the stack could read. The file is written mode 0600. Not a manage.py
command: Django's settings need these very variables before any command can run.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from project.integrations import cloudformation, cognito

# The Outputs the app reads, each the variable it becomes (.env.example documents them).
OUTPUTS = (
    "CognitoRegion", "CognitoUserPoolId", "CognitoClientId", "CognitoDomain", "CognitoSpaClientId",
    "ApiClientIds", "CognitoIdentityPoolId", "AwsStorageBucketName", "AwsS3RegionName",
)  # fmt: skip
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")
# What an env-file value may hold unquoted: ids, URLs, comma-separated lists, secrets.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.,:/@+=%-]*")


def env_name(output_key: str) -> str:
    """The variable an Output stands for: CognitoUserPoolId -> COGNITO_USER_POOL_ID."""
    return _WORD_START.sub("_", output_key).upper()


def plain(what: str, value: str) -> str:
    """value, if an env file can hold it unquoted (no line, variable or shell can be smuggled in)."""
    if not isinstance(value, str) or not _PLAIN_VALUE.fullmatch(value):
        raise ValueError(f"{what} has characters an env file would need quoted: {value!r}")
    return value


def ignored_outputs(outputs: dict[str, str]) -> list[str]:
    """The stack's Outputs that are not the app's (env_from_outputs leaves them out)."""
    return [key for key in outputs if key not in OUTPUTS]


def env_from_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """The app's variables from a stack's OutputKey -> OutputValue: the documented ones, in order."""
    return {env_name(key): plain(f"output {key}", outputs[key]) for key in OUTPUTS if key in outputs}


def render(values: dict[str, str], stack_name: str) -> str:
    """KEY=VALUE lines (readable by the shell and django-environ)."""
    lines = [f"# From CloudFormation stack {stack_name} (make env-from-stack). Contains a secret."]
    lines += [f"{name}={value}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write text to path, mode 0600 from the start (it holds the client secret)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.env_from_stack", description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument(
        "--region", default=None, help="the stack's region (default: boto3's, e.g. AWS_DEFAULT_REGION)"
    )
    parser.add_argument("--output", default=None, help="the env file to write (default .env.<stack>)")
    args = parser.parse_args(argv)
    try:
        outputs = cloudformation.stack_outputs(stack_name=args.stack, region=args.region)
        for key in ignored_outputs(outputs):
            print(f"env-from-stack: warning: ignoring output {key} (not one of the app's)", file=sys.stderr)
        values = env_from_outputs(outputs)
        secret = cognito.client_secret(
            region=values["COGNITO_REGION"],
            user_pool_id=values["COGNITO_USER_POOL_ID"],
            client_id=values["COGNITO_CLIENT_ID"],
        )
        values["COGNITO_CLIENT_SECRET"] = plain("the web client's secret", secret)
    except (cloudformation.StackError, cognito.CognitoError, ValueError, KeyError) as exc:
        print(f"env-from-stack: {exc}", file=sys.stderr)
        return 1
    path = Path(args.output or f".env.{args.stack}")
    write_private(path, render(values, args.stack))
    print(f"env-from-stack: wrote {', '.join(values)} to {path} (mode 0600)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
