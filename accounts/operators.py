"""The operator console's actions on users, reaching Cognito with the server's AWS credentials.

One place for every operator action (the admin's buttons, bulk actions and the invite form call
these; `admin.py` holds no logic): each checks who may act on whom, calls the pool's admin API
(project.integrations.cognito), keeps the local user in step, and writes one `OperatorAction`
row naming the operator by e-mail — also when the action is refused or fails. Nothing is left
half-done silently: an action that did only part of its work says which part in its outcome.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import services, sessions
from accounts.models import DISABLED, MISSING, OperatorAction, UserSession
from accounts.signals import AccountDeletionBlocked, user_deleting
from project import roles, text
from project.integrations import cognito

logger = logging.getLogger(__name__)

OPERATE = "accounts.operate_user"
MANAGE = "accounts.manage_user"
ADMIN_ROLE = roles.ADMIN


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    permission: str

    @property
    def manages(self) -> bool:
        """Roles, groups, invitations and deletions: for the admin role (or superusers) only."""
        return self.permission == MANAGE


ACTIONS = {
    a.name: a
    for a in (
        Action("disable", "Disable", OPERATE),
        Action("enable", "Enable", OPERATE),
        Action("sign_out", "Sign out everywhere", OPERATE),
        Action("reset_password", "Reset password", OPERATE),
        Action("reset_mfa", "Reset MFA", OPERATE),
        Action("view_state", "Read Cognito state", OPERATE),
        Action("set_role", "Set role", MANAGE),
        Action("add_group", "Add to group", MANAGE),
        Action("remove_group", "Remove from group", MANAGE),
        Action("invite", "Invite", MANAGE),
        Action("delete", "Delete", MANAGE),
        Action("reconcile", "Reconcile with the pool", OPERATE),
        # On pool users who never signed in here (the reconcile page's list), named by sub.
        Action("resend_invitation", "Resend the invitation", MANAGE),
        Action("import", "Import from the pool", MANAGE),
    )
}
# What is recorded for a request that named no action this console knows.
UNKNOWN = Action("unknown", "Unknown action", OPERATE)
# Cognito's GroupName: 1 to 128 letters, marks, symbols, numbers and punctuation
# ([\p{L}\p{M}\p{S}\p{N}\p{P}]+).
GROUP_NAME_MAX = 128
GROUP_NAME_CATEGORIES = frozenset("LMSNP")
# What the changelist may do to many users at once.
BULK_ACTIONS = ("disable", "enable", "sign_out")
# What the list of pool users who never signed in here may do to them, and to how many at once.
POOL_USER_ACTIONS = ("resend_invitation", "import")
POOL_USERS_AT_ONCE = 100
# A Cognito sub (a UUID): what names a pool user in a form; anything else is refused before any call.
SUB = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Operator:
    """Who acts: the staff user and the role of their own verified ID token (custom:role)."""

    user: Any
    role: str | None = None
    request: HttpRequest | None = None

    @property
    def email(self) -> str:
        return self.user.email or self.user.username


@dataclass(frozen=True)
class Outcome:
    """How an action went for one user, in words for the operator."""

    user: str
    ok: bool
    message: str
    # Cognito was unreachable or throttling: later calls in a bulk action would fare no better.
    cognito_down: bool = False


class OperatorRefused(Exception):
    """The operator may not do this (to this user)."""


class PartlyDone(Exception):
    """Some steps of an action were done, a later one failed: the message says which."""


class NotDone(Exception):
    """Nothing was done, for a reason the operator can act on (Cognito's or ours): the message says it."""


def operator_from_request(request: HttpRequest) -> Operator:
    """The operator behind an admin request; the role comes from their session's verified ID token.

    The session holds the ID token the hosted UI issued at sign-in (renewed by the refresh
    middleware), so the role is Cognito's word, never a form field or a column staff could edit.
    """
    role = None
    token = request.session.get(services.ID_TOKEN)
    if token:
        try:
            claims = cognito.user_pool().verify_token(token, token_use="id")
        except cognito.InvalidToken:
            claims = {}
        role = roles.role_from_claims(claims)
    return Operator(user=request.user, role=role, request=request)


def user_label(user: Any) -> str:
    """E-mail and sub: how two users of the same name are told apart."""
    email = text.shown(user.email) or user.username
    return f"{email} ({user.cognito_sub})" if user.cognito_sub else email


def _username(user: Any) -> str:
    return user.cognito_username or user.cognito_sub


# --- Who may do what --------------------------------------------------------------------------


def _check_operator(operator: Operator, action: Action) -> None:
    actor = operator.user
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise OperatorRefused("Only staff may act on users.")
    if not actor.has_perm(action.permission):
        raise OperatorRefused(f"You do not have the permission to {action.label.lower()}.")
    if action.manages and not actor.is_superuser and operator.role != ADMIN_ROLE:
        raise OperatorRefused(f"Only administrators (role “{ADMIN_ROLE}”) may {action.label.lower()}.")


def _check_target(operator: Operator, action: Action, user: Any) -> None:
    actor = operator.user
    if user.is_superuser and not actor.is_superuser:
        raise OperatorRefused("Only a superuser may act on a superuser.")
    if user.pk == actor.pk and action.name in ("disable", "delete", "set_role", "remove_group"):
        raise OperatorRefused("You cannot do this to your own account here.")
    if user.pk == actor.pk and action.name == "sign_out":
        # It would end the session this very request runs in (and lose its results page).
        raise OperatorRefused(
            "You cannot sign yourself out everywhere here: use Sign out, or ask another operator."
        )
    if not user.cognito_sub:
        raise OperatorRefused("This account has no Cognito identity (a local account).")


def operator_may(*, operator: Operator, action_name: str, user: Any = None) -> bool:
    """Whether the operator may do this (to this user): for showing only the buttons that work."""
    action = ACTIONS[action_name]
    try:
        _check_operator(operator, action)
        if user is not None:
            _check_target(operator, action, user)
    except OperatorRefused:
        return False
    return True


def _record(
    operator: Operator,
    action: Action,
    *,
    user: Any = None,
    email: str = "",
    sub: str = "",
    detail: str = "",
    error: str = "",
    succeeded: bool,
) -> None:
    # What an operator typed may hold anything (NUL, bidi overrides): the trail keeps it without
    # the characters project.text refuses (Postgres refuses NUL; the others mislead a reader).
    clean = text.without_refused
    OperatorAction.objects.create(
        actor=operator.user if operator.user.is_authenticated and operator.user.pk else None,
        actor_email=clean(operator.email if operator.user.is_authenticated else "(anonymous)")[:254],
        target=user if user is not None and user.pk else None,
        # The local row's address, else the one the caller read (the pool's): a user imported with
        # an unverified address has none here yet, but the trail still names who it was.
        target_email=clean((user.email if user is not None else "") or email)[:254],
        target_sub=clean((user.cognito_sub or "") if user is not None and user.cognito_sub else sub)[:64],
        action=action.name,
        detail=clean(detail)[:255],
        succeeded=succeeded,
        error=clean(error)[:500],
    )
    log = logger.info if succeeded else logger.warning
    log("operator %s: %s %s %s", operator.email, action.name, user or email, error or "done")


def operator_refused(
    *, operator: Operator, action_name: str, reason: str, user: Any = None, email: str = "", detail: str = ""
) -> Outcome:
    """Record a request refused before any action ran (no permission, bad input); its outcome."""
    action = ACTIONS.get(action_name, UNKNOWN)
    _record(
        operator, action, user=user, email=email, detail=detail, error=f"refused: {reason}", succeeded=False
    )
    return Outcome(user_label(user) if user is not None else text.shown(email), False, reason)


# --- Running one action -----------------------------------------------------------------------


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, cognito.Throttled):
        return "Cognito is throttling requests (TooManyRequestsException): not done, try again later."
    if isinstance(exc, cognito.AdminCallRefused):
        return f"Cognito refused: {exc.message or exc.code}"
    if isinstance(exc, (PartlyDone, NotDone)):
        return str(exc)
    return "Cognito could not be reached: not done."


def _operate(
    operator: Operator, action: Action, user: Any, steps: Callable[[], str], *, detail: str = ""
) -> Outcome:
    label = user_label(user)
    try:
        _check_operator(operator, action)
        _check_target(operator, action, user)
    except OperatorRefused as exc:
        _record(operator, action, user=user, detail=detail, error=f"refused: {exc}", succeeded=False)
        return Outcome(label, False, str(exc))
    try:
        message = steps()
    except OperatorRefused as exc:
        _record(operator, action, user=user, detail=detail, error=f"refused: {exc}", succeeded=False)
        return Outcome(label, False, str(exc))
    except cognito.UserNotFound:
        _user_mark_missing(user)
        message = "No longer exists in the user pool (deleted there): marked here, and signed out here."
        _record(operator, action, user=user, detail=detail, error=message, succeeded=False)
        return Outcome(label, False, message)
    except (cognito.CognitoError, PartlyDone, NotDone) as exc:
        message = _failure_message(exc)
        _record(operator, action, user=user, detail=detail, error=f"{message} ({exc})", succeeded=False)
        return Outcome(label, False, message, cognito_down=isinstance(exc, cognito.CognitoUnavailable))
    _record(operator, action, user=user, detail=detail, succeeded=True)
    return Outcome(label, True, message)


# --- Local side effects -----------------------------------------------------------------------


def end_django_sessions(user: Any, reason: str = services.ENDED_SIGNED_OUT) -> int:
    """End every Django session of the user now (accounts.sessions' index); each browser's next
    request is signed out and told why (services.session_end_reason). Returns how many ended."""
    for key in UserSession.objects.filter(user=user).values_list("session_id", flat=True):
        services.session_mark_ended(session_key=key, reason=reason)
    return sessions.user_sessions_end(user=user)


def _deactivate(user: Any) -> None:
    """Disabled in Cognito by an operator: stays inactive here until enabled there again."""
    get_user_model().objects.filter(pk=user.pk).update(is_active=False, deactivated_as=DISABLED)
    user.is_active, user.deactivated_as = False, DISABLED
    end_django_sessions(user, services.ENDED_DISABLED)


def _user_mark_missing(user: Any) -> None:
    """The pool has no such user any more: inactive here (until the pool shows them again)."""
    now = timezone.now()
    users = get_user_model().objects.filter(pk=user.pk)
    users.filter(pool_missing_since__isnull=True).update(pool_missing_since=now)
    # Already inactive (disabled by an operator): that reason stays.
    users.filter(is_active=True).update(is_active=False, deactivated_as=MISSING)
    user.pool_missing_since = user.pool_missing_since or now
    user.is_active = False
    end_django_sessions(user, services.ENDED_DISABLED)


def _claims_from_pool(pool_user: dict[str, Any]) -> dict[str, Any]:
    """What the ID token of this pool user's sign-in would say (AdminGetUser's or ListUsers' user,
    attributes as a dict): the attributes, the username and the groups (`Groups` if read already,
    else read now)."""
    username = pool_user.get("Username", "")
    groups = pool_user.get("Groups")
    return {
        **pool_user["Attributes"],
        "cognito:username": username,
        "cognito:groups": groups
        if groups is not None
        else cognito.user_pool().admin_list_groups_for_user(username=username),
    }


def _mirror_from_pool(user: Any) -> None:
    """Take the pool's attributes and groups in now, as a sign-in would (groups, staff, role)."""
    claims = _claims_from_pool(cognito.user_pool().admin_get_user(username=_username(user)))
    if claims.get("sub") != user.cognito_sub:
        raise PartlyDone("Done in Cognito, but the pool's user has another sub: not mirrored here.")
    services.user_update_from_claims(user=user, claims=claims)


def _renew_powers(user: Any) -> None:
    """A role or group taken away: the user's sessions end now, since the powers of a session (an
    operator's admin role) come from the ID token it holds, which would keep the old ones for up to
    an hour. Their next sign-in brings a token with the new ones."""
    end_django_sessions(user)


# --- The actions ------------------------------------------------------------------------------


def user_disable(*, operator: Operator, user: Any) -> Outcome:
    """AdminDisableUser, then end the user's sessions here and their refresh tokens in Cognito."""

    def steps() -> str:
        pool = cognito.user_pool()
        pool.admin_disable_user(username=_username(user))
        _deactivate(user)
        try:
            pool.admin_user_global_sign_out(username=_username(user))
        except cognito.CognitoError as exc:
            raise PartlyDone(
                "Disabled in Cognito and signed out here, but the refresh tokens were not revoked "
                f"({_failure_message(exc)}): use “Sign out everywhere” again."
            ) from exc
        return "Disabled; signed out everywhere."

    return _operate(operator, ACTIONS["disable"], user, steps)


def user_enable(*, operator: Operator, user: Any) -> Outcome:
    """AdminEnableUser; the account works here again (the user signs in afresh)."""

    def steps() -> str:
        cognito.user_pool().admin_enable_user(username=_username(user))
        get_user_model().objects.filter(pk=user.pk).update(is_active=True, deactivated_as="")
        user.is_active, user.deactivated_as = True, ""
        return "Enabled; they can sign in again."

    return _operate(operator, ACTIONS["enable"], user, steps)


def user_sign_out_everywhere(*, operator: Operator, user: Any) -> Outcome:
    """AdminUserGlobalSignOut and every Django session of the user."""

    def steps() -> str:
        cognito.user_pool().admin_user_global_sign_out(username=_username(user))
        end_django_sessions(user)
        return "Signed out everywhere."

    return _operate(operator, ACTIONS["sign_out"], user, steps)


def user_reset_password(*, operator: Operator, user: Any) -> Outcome:
    """AdminResetUserPassword: Cognito e-mails a code; the hosted UI takes them through the reset."""

    def steps() -> str:
        cognito.user_pool().admin_reset_user_password(username=_username(user))
        return "Password reset: a code was e-mailed; their next sign-in asks for a new password."

    return _operate(operator, ACTIONS["reset_password"], user, steps)


def user_reset_mfa(*, operator: Operator, user: Any) -> Outcome:
    """Turn off the user's TOTP (a lost phone): they sign in with the password and may set it up again."""

    def steps() -> str:
        cognito.user_pool().admin_reset_mfa(username=_username(user))
        return "MFA reset: their next sign-in asks only for the password."

    return _operate(operator, ACTIONS["reset_mfa"], user, steps)


def user_set_role(*, operator: Operator, user: Any, role: str) -> Outcome:
    """custom:role from the closed list (AdminUpdateUserAttributes), mirrored here at once."""

    def steps() -> str:
        if role and roles.role_from_value(role) is None:
            raise OperatorRefused(f"“{text.shown(role[:64])}” is not a role.")
        if role:
            cognito.user_pool().admin_update_user_attributes(
                username=_username(user), attributes={roles.ROLE_CLAIM: role}
            )
        else:
            cognito.user_pool().admin_delete_user_attributes(
                username=_username(user), names=[roles.ROLE_CLAIM]
            )
        _mirror_from_pool(user)
        _renew_powers(user)
        done = f"Role set to “{role}”" if role else "Role removed"
        return f"{done}; signed out here, so their next sign-in carries it."

    return _operate(operator, ACTIONS["set_role"], user, steps, detail=f"role={role}")


def _check_group(operator: Operator, group: str) -> None:
    if not group:
        raise OperatorRefused("Choose a group.")
    if len(group) > GROUP_NAME_MAX or any(
        unicodedata.category(char)[0] not in GROUP_NAME_CATEGORIES for char in group
    ):
        raise OperatorRefused(
            f"“{text.shown(group[:GROUP_NAME_MAX])}” is not a group name (as Cognito allows them)."
        )
    superuser_group = settings.COGNITO_SUPERUSER_GROUP
    if superuser_group and group == superuser_group and not operator.user.is_superuser:
        raise OperatorRefused("Only a superuser may change the superuser group.")


def user_add_group(*, operator: Operator, user: Any, group: str) -> Outcome:
    """AdminAddUserToGroup, then the Django groups (and staff status) mirror Cognito's."""

    def steps() -> str:
        _check_group(operator, group)
        cognito.user_pool().admin_add_user_to_group(username=_username(user), group=group)
        _mirror_from_pool(user)
        return f"Added to group “{group}”."

    return _operate(operator, ACTIONS["add_group"], user, steps, detail=f"group={group}")


def user_remove_group(*, operator: Operator, user: Any, group: str) -> Outcome:
    """AdminRemoveUserFromGroup, then mirrored."""

    def steps() -> str:
        _check_group(operator, group)
        cognito.user_pool().admin_remove_user_from_group(username=_username(user), group=group)
        _mirror_from_pool(user)
        _renew_powers(user)
        return f"Removed from group “{group}”; signed out here, so their next sign-in carries it."

    return _operate(operator, ACTIONS["remove_group"], user, steps, detail=f"group={group}")


def user_delete(*, operator: Operator, user: Any) -> Outcome:
    """AdminDeleteUser, then the local account with its sessions (and, by cascade, its profile)."""

    def steps() -> str:
        # Other apps delete what they keep outside the database (profiles: the avatar in S3);
        # a receiver that cannot raises AccountDeletionBlocked and nothing is deleted anywhere.
        try:
            user_deleting.send(sender=type(user), user=user, request=operator.request, operator=operator.user)
        except AccountDeletionBlocked as exc:
            raise PartlyDone(f"Not deleted: {exc}") from exc
        try:
            cognito.user_pool().admin_delete_user(username=_username(user))
        except cognito.UserNotFound:
            pass  # deleted there already: finish the job here
        end_django_sessions(user)
        with transaction.atomic():
            get_user_model().objects.filter(pk=user.pk).delete()
        user.pk = None  # the audit row keeps e-mail and sub, not a link to a deleted row
        return "Deleted, in Cognito and here."

    return _operate(operator, ACTIONS["delete"], user, steps)


def user_invite(*, operator: Operator, email: str, name: str = "", role: str = "") -> Outcome:
    """AdminCreateUser: Cognito e-mails a temporary password; the first sign-in sets a new one."""
    action = ACTIONS["invite"]
    try:
        _check_operator(operator, action)
        if role and roles.role_from_value(role) is None:
            raise OperatorRefused(f"“{text.shown(role[:64])}” is not a role.")
        if text.first_refused(email) is not None or text.first_refused(name) is not None:
            raise OperatorRefused("The e-mail address or name holds characters that are not allowed.")
    except OperatorRefused as exc:
        _record(operator, action, email=email, error=f"refused: {exc}", succeeded=False)
        return Outcome(text.shown(email), False, str(exc))
    attributes = {k: v for k, v in (("name", name), ("custom:role", role)) if v}
    try:
        created = cognito.user_pool().admin_create_user(email=email, attributes=attributes)
    except cognito.CognitoError as exc:
        message = _failure_message(exc)
        _record(operator, action, email=email, error=f"{message} ({exc})", succeeded=False)
        return Outcome(text.shown(email), False, message)
    sub = created["Attributes"].get("sub", "")
    _record(operator, action, email=email, sub=sub, detail=f"role={role}" if role else "", succeeded=True)
    return Outcome(f"{text.shown(email)} ({sub})", True, "Invited: a temporary password was e-mailed.")


RESENT = "Invitation sent again: a new temporary password was e-mailed; the old one no longer works."
RESENT_DISABLED = (
    "Invitation sent again (a new temporary password e-mailed; the old one no longer works), "
    "but the user is disabled in Cognito and cannot sign in until enabled."
)


def _provider_name(pool_user: dict[str, Any]) -> str:
    """The provider an EXTERNAL_PROVIDER user signs in through: their `identities`, else the
    username's prefix (Cognito names them `<Provider>_<id>`)."""
    try:
        identities = json.loads(pool_user.get("Attributes", {}).get("identities") or "[]")
        name = identities[0].get("providerName", "") if isinstance(identities, list) and identities else ""
    except (ValueError, AttributeError):
        name = ""
    return text.shown(str(name) or str(pool_user.get("Username", "")).partition("_")[0] or "their provider")


def _not_resent(pool_user: dict[str, Any]) -> str:
    """Why Cognito would not resend to this user, in words, from their UserStatus."""
    status = str(pool_user.get("UserStatus", ""))
    if status == "UNCONFIRMED":
        return (
            "Not sent: they have not confirmed their sign-up e-mail yet (UNCONFIRMED); they can ask "
            "for a new code on the sign-in page."
        )
    if status == "EXTERNAL_PROVIDER":
        return (
            f"Not sent: they sign in through {_provider_name(pool_user)} (EXTERNAL_PROVIDER); "
            "there is no invitation to resend."
        )
    return (
        "Not sent (UnsupportedUserStateException): Cognito resends only an invitation not yet accepted "
        f"(FORCE_CHANGE_PASSWORD); this user ({status or 'another status'}) has chosen a password already "
        "(“Reset password” or the hosted “Forgot password” helps them)."
    )


def _resend(pool_user: dict[str, Any]) -> str:
    """AdminCreateUser RESEND to the pool's user (read just before); Cognito's refusal in words for
    their UserStatus; a warning when the user is disabled there (the e-mail goes, the sign-in won't)."""
    try:
        answer = cognito.user_pool().admin_resend_invitation(username=pool_user["Username"])
    except cognito.AdminCallRefused as exc:
        if exc.code != "UnsupportedUserStateException":
            raise
        raise NotDone(_not_resent(pool_user)) from exc
    return RESENT if answer.get("Enabled", pool_user.get("Enabled", True)) else RESENT_DISABLED


def _check_superuser_group(operator: Operator, groups: list[str]) -> None:
    """A member of COGNITO_SUPERUSER_GROUP (in the pool, read now) is acted on by superusers only:
    their first sign-in makes them a superuser here."""
    superuser_group = settings.COGNITO_SUPERUSER_GROUP
    if superuser_group and superuser_group in groups and not operator.user.is_superuser:
        raise OperatorRefused("Only a superuser may act on a member of the superuser group.")


def user_resend_invitation(*, operator: Operator, user: Any) -> Outcome:
    """A new temporary password e-mailed (the old one stops working), for a user here who never
    accepted their invitation (an imported one). The pool's user and groups are read first."""

    def steps() -> str:
        pool = cognito.user_pool()
        pool_user = pool.admin_get_user(username=_username(user))
        _check_superuser_group(operator, pool.admin_list_groups_for_user(username=_username(user)))
        return _resend({**pool_user, "Username": pool_user.get("Username") or _username(user)})

    return _operate(operator, ACTIONS["resend_invitation"], user, steps)


_BULK = {"disable": user_disable, "enable": user_enable, "sign_out": user_sign_out_everywhere}


def users_bulk(*, operator: Operator, action_name: str, users: Iterable[Any]) -> list[Outcome]:
    """One action for many users, each reported. Once Cognito is unreachable or throttling,
    the rest are not tried (each would wait for its own timeout) and are reported as not done."""
    run = _BULK[action_name]
    outcomes: list[Outcome] = []
    stopped = ""
    for user in users:
        if stopped:
            action = ACTIONS[action_name]
            _record(operator, action, user=user, error=f"not tried: {stopped}", succeeded=False)
            outcomes.append(Outcome(user_label(user), False, f"Not tried: {stopped}"))
            continue
        outcome = run(operator=operator, user=user)
        outcomes.append(outcome)
        if outcome.cognito_down:
            stopped = outcome.message
    return outcomes


# --- Pool users who never signed in here (named by sub) ----------------------------------------


def _pool_label(pool_user: dict[str, Any], sub: str) -> str:
    email = text.shown(pool_user["Attributes"].get("email", ""))
    return f"{email} ({sub})" if email else sub


def _pool_local(operator: Operator, action: Action, sub: str) -> Any:
    """The checks made before the pool is read; the local user with this sub, if any."""
    _check_operator(operator, action)
    if not SUB.fullmatch(sub):
        raise OperatorRefused("Not a Cognito sub.")
    local = get_user_model().objects.filter(cognito_sub=sub).first()
    if local is not None and local.is_superuser and not operator.user.is_superuser:
        raise OperatorRefused("Only a superuser may act on a superuser.")
    return local


def _read_pool_user(sub: str) -> dict[str, Any]:
    """The pool's user with this sub, read now, with their groups (`Groups`)."""
    pool_user = cognito.user_pool().find_user_by_sub(sub=sub)
    if pool_user is None:
        raise NotDone("No such user in the pool (deleted there since the list was read?): nothing done.")
    pool_user["Groups"] = cognito.user_pool().admin_list_groups_for_user(username=pool_user["Username"])
    return pool_user


def _pool_operate(
    operator: Operator, action: Action, sub: str, steps: Callable[[dict[str, Any]], tuple[str, Any]]
) -> Outcome:
    """Run `steps` on the pool's user with this sub, read now (never what a form said of them):
    checked, recorded and reported as _operate does for a local user. A member of the superuser
    group (their groups read from the pool) is for superusers only, whatever the action. The trail
    names what is known at each point: the local user if there is one, the pool's e-mail once read."""
    label, email = text.shown(sub[:64]), ""
    local = get_user_model().objects.filter(cognito_sub=sub).first() if SUB.fullmatch(sub) else None
    try:
        _pool_local(operator, action, sub)
    except OperatorRefused as exc:
        _record(operator, action, user=local, sub=sub, error=f"refused: {exc}", succeeded=False)
        return Outcome(user_label(local) if local is not None else label, False, str(exc))
    try:
        pool_user = _read_pool_user(sub)
        label, email = _pool_label(pool_user, sub), pool_user["Attributes"].get("email", "")
        _check_superuser_group(operator, pool_user["Groups"])
        message, user = steps(pool_user)
    except OperatorRefused as exc:
        _record(operator, action, user=local, email=email, sub=sub, error=f"refused: {exc}", succeeded=False)
        return Outcome(label, False, str(exc))
    except (cognito.CognitoError, NotDone) as exc:
        message = _failure_message(exc)
        _record(
            operator, action, user=local, email=email, sub=sub, error=f"{message} ({exc})", succeeded=False
        )
        return Outcome(label, False, message, cognito_down=isinstance(exc, cognito.CognitoUnavailable))
    _record(operator, action, user=user or local, email=email, sub=sub, succeeded=True)
    return Outcome(label, True, message)


def pool_user_resend_invitation(*, operator: Operator, sub: str) -> Outcome:
    """AdminCreateUser RESEND for a pool user: a new temporary password e-mailed, the old one dead.
    Cognito refuses it for anyone but FORCE_CHANGE_PASSWORD; the outcome says why in words (from
    the UserStatus read), and warns when the user is disabled (sent, but they cannot sign in)."""

    def steps(pool_user: dict[str, Any]) -> tuple[str, Any]:
        return _resend(pool_user), None

    return _pool_operate(operator, ACTIONS["resend_invitation"], sub, steps)


# The statuses whose users can sign in (so a first sign-in could make their account here): an
# UNCONFIRMED sign-up cannot until their e-mail is confirmed, so it is not imported.
IMPORTABLE = frozenset({"FORCE_CHANGE_PASSWORD", "CONFIRMED", "EXTERNAL_PROVIDER", "RESET_REQUIRED"})


def _import_create(pool_user: dict[str, Any]) -> Any:
    """The local user as a first sign-in makes it; NotDone for a clash with another row."""
    try:
        user, created = services.user_get_or_create_from_claims(claims=_claims_from_pool(pool_user))
    except IntegrityError as exc:
        # Not this person's row (that is `created` False) but another's: a local username equal to
        # this sub, say. The savepoint rolled back; the rest of a batch goes on.
        raise NotDone(
            "Could not import: it clashes with another account here (the same username), nothing imported."
        ) from exc
    if not created:
        raise NotDone("Signed in or imported meanwhile: that account stays, nothing imported.")
    return user


def pool_user_import(*, operator: Operator, sub: str) -> Outcome:
    """The local user (and, through user_signed_in, the profile) made from the pool's user exactly
    as their first sign-in makes it (services.user_get_or_create_from_claims, from the attributes and
    groups the ID token would carry), so the admin can manage them before they ever sign in. Keyed by
    the unique sub: imported twice, or signed in meanwhile, it is the one row; their first sign-in
    lands on it. Only a user who could sign in is imported: never an UNCONFIRMED sign-up (no profile
    for an address nobody confirmed). An unverified e-mail is imported as a sign-in takes it (pending,
    not the account's address). A user disabled in the pool is imported inactive, as a pass would
    mirror them."""

    def steps(pool_user: dict[str, Any]) -> tuple[str, Any]:
        User = get_user_model()
        if User.objects.filter(cognito_sub=sub).exists():
            raise NotDone("Already a user here (signed in or imported before): nothing imported.")
        status = str(pool_user.get("UserStatus", ""))
        if status not in IMPORTABLE:
            raise NotDone(
                f"Not imported ({status or 'no UserStatus'}): they cannot sign in yet "
                "(an UNCONFIRMED sign-up has not confirmed their e-mail); import them once they have."
            )
        user = _import_create(pool_user)
        if not pool_user.get("Enabled", True):
            User.objects.filter(pk=user.pk).update(is_active=False, deactivated_as=DISABLED)
            return "Imported, inactive: the pool lists them disabled.", user
        return "Imported: manage them here; their first sign-in lands on this account.", user

    return _pool_operate(operator, ACTIONS["import"], sub, steps)


_POOL_BULK = {"resend_invitation": pool_user_resend_invitation, "import": pool_user_import}


def pool_users_bulk(*, operator: Operator, action_name: str, subs: Iterable[str]) -> list[Outcome]:
    """One action for many pool users (at most POOL_USERS_AT_ONCE, each once), each reported; once
    Cognito is unreachable or throttling the rest are not tried, as in users_bulk."""
    run = _POOL_BULK[action_name]
    outcomes: list[Outcome] = []
    stopped = ""
    for sub in list(dict.fromkeys(subs))[:POOL_USERS_AT_ONCE]:
        if stopped:
            # The pool is not read again (it is down): the local row, if any, names them in the trail.
            local = get_user_model().objects.filter(cognito_sub=sub).first() if SUB.fullmatch(sub) else None
            action = ACTIONS[action_name]
            _record(operator, action, user=local, sub=sub, error=f"not tried: {stopped}", succeeded=False)
            outcomes.append(Outcome(text.shown(sub[:64]), False, f"Not tried: {stopped}"))
            continue
        outcome = run(operator=operator, sub=sub)
        outcomes.append(outcome)
        if outcome.cognito_down:
            stopped = outcome.message
    return outcomes


# --- Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolState:
    enabled: bool
    status: str
    mfa: list[str]
    groups: list[str]
    last_modified: Any
    created: Any
    attributes: dict[str, str]


def user_pool_state(*, operator: Operator, user: Any) -> PoolState:
    """The user as Cognito has them now (read on demand, never on a list view).

    Raises OperatorRefused, cognito.UserNotFound (deleted there: marked here) or CognitoError.
    """
    _check_operator(operator, ACTIONS["view_state"])
    if not user.cognito_sub:
        raise OperatorRefused("This account has no Cognito identity (a local account).")
    pool = cognito.user_pool()
    try:
        answer = pool.admin_get_user(username=_username(user))
        groups = pool.admin_list_groups_for_user(username=_username(user))
    except cognito.UserNotFound:
        _user_mark_missing(user)
        raise
    return PoolState(
        enabled=bool(answer.get("Enabled")),
        status=str(answer.get("UserStatus", "")),
        mfa=list(answer.get("UserMFASettingList") or []),
        groups=groups,
        last_modified=answer.get("UserLastModifiedDate"),
        created=answer.get("UserCreateDate"),
        attributes=answer["Attributes"],
    )
