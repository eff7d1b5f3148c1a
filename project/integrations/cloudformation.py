"""AWS CloudFormation: a deployed stack's Outputs (for `make env-from-stack`, infra/README.md).

An operator tool, not used by the running app: it reads no Django setting, so it works before the
app's environment exists. Credentials and region come from boto3's usual chain (AWS_PROFILE,
AWS_DEFAULT_REGION, an instance role...).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from project.integrations import outbound


class StackError(Exception):
    """The stack could not be read (unknown, not deployed yet, no permission, no network)."""


def stack_outputs(
    *, stack_name: str, region: str | None = None, endpoint_url: str | None = None
) -> dict[str, str]:
    """OutputKey -> OutputValue of a stack whose last create or update completed."""
    try:
        client: Any = outbound.observe_client(
            boto3.session.Session().client("cloudformation", region_name=region, endpoint_url=endpoint_url)
        )
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise StackError(f"cannot read stack {stack_name!r}: {exc}") from exc
    stack = stacks[0]
    status = stack.get("StackStatus", "")
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status or "DELETE" in status:
        raise StackError(f"stack {stack_name!r} is {status}, not deployed")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
