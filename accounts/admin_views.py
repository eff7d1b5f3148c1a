"""The operator console's pages inside the Django admin: thin views over accounts.operators."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts import operators, reconcile
from project import roles, text
from project.integrations import cognito

# Actions on one user and the form field each takes (if any).
ONE_USER_ACTIONS = {
    "disable": operators.user_disable,
    "enable": operators.user_enable,
    "sign_out": operators.user_sign_out_everywhere,
    "reset_password": operators.user_reset_password,
    "reset_mfa": operators.user_reset_mfa,
    "resend_invitation": operators.user_resend_invitation,
    "delete": operators.user_delete,
}
WITH_VALUE = {
    "set_role": (operators.user_set_role, "role"),
    "add_group": (operators.user_add_group, "group"),
    "remove_group": (operators.user_remove_group, "group"),
}


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=100, required=False)
    role = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles.role_choices()

    def _without_refused(self, name: str) -> str:
        value = self.cleaned_data[name]
        refused = text.first_refused(value)
        if refused is not None:
            raise forms.ValidationError(f"Remove the character U+{ord(refused):04X}: it is not allowed here.")
        return value

    def clean_email(self) -> str:
        return self._without_refused("email")

    def clean_name(self) -> str:
        return self._without_refused("name")

    def errors_in_words(self) -> str:
        return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in self.errors.items())


def _context(model_admin, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        **extra,
    }


def _require_operate(request: HttpRequest, action_name: str, user: Any = None) -> operators.Operator:
    """The operator, if they may use the console at all; a refusal (403) is recorded too."""
    operator = operators.operator_from_request(request)
    if not request.user.has_perm(operators.OPERATE):
        operators.operator_refused(
            operator=operator,
            action_name=action_name,
            user=user,
            reason="no permission to operate users (403)",
        )
        raise PermissionDenied
    return operator


def _run(operator: operators.Operator, request: HttpRequest, user: Any) -> operators.Outcome:
    name = request.POST.get("action", "")
    if name in ONE_USER_ACTIONS:
        return ONE_USER_ACTIONS[name](operator=operator, user=user)
    if name in WITH_VALUE:
        service, field = WITH_VALUE[name]
        # Checked by the service (Cognito's rules for a group, the closed list for a role).
        return service(operator=operator, user=user, **{field: request.POST.get(field, "").strip()})
    return operators.operator_refused(
        operator=operator, action_name=name, user=user, reason="Unknown action.", detail=f"action={name}"
    )


@require_http_methods(["GET", "POST"])
def cognito_page(request: HttpRequest, model_admin, pk: int) -> HttpResponse:
    """The user's Cognito state, read now, and the operator's buttons (POST, CSRF-protected)."""
    user = get_object_or_404(model_admin.model, pk=pk)
    action_name = request.POST.get("action", "") if request.method == "POST" else "view_state"
    operator = _require_operate(request, action_name, user)
    if request.method == "POST":
        outcome = _run(operator, request, user)
        (messages.success if outcome.ok else messages.error)(request, f"{outcome.user}: {outcome.message}")
        if outcome.ok and request.POST.get("action") == "delete":
            return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
        return HttpResponseRedirect(request.path)
    return TemplateResponse(
        request, "admin/accounts/user/cognito.html", _page_context(model_admin, request, operator, user)
    )


def _page_context(
    model_admin, request: HttpRequest, operator: operators.Operator, user: Any
) -> dict[str, Any]:
    state, error, groups = None, "", []
    try:
        state = operators.user_pool_state(operator=operator, user=user)
        groups = cognito.user_pool().list_groups()
    except operators.OperatorRefused as exc:
        error = str(exc)
    except cognito.UserNotFound:
        error = "This user no longer exists in the user pool (deleted there): marked here and signed out."
    except cognito.CognitoError as exc:
        error = f"Cognito could not be read: {exc.__class__.__name__}."
    may = {
        name: operators.operator_may(operator=operator, action_name=name, user=user)
        for name in operators.ACTIONS
    }
    return _context(
        model_admin,
        request,
        title=f"Cognito: {operators.user_label(user)}",
        original=user,
        target=user,
        label=operators.user_label(user),
        state=state,
        # Anyone can put anything in these attributes: bidi overrides are shown, never acting.
        pool_role=text.shown(state.attributes.get("custom:role", "")) if state else "",
        pool_email=text.shown(state.attributes.get("email", "")) if state else "",
        error=error,
        may=may,
        roles=roles.roles(),
        groups=[g for g in groups if not state or g not in state.groups],
        history=user.operator_actions.all()[:20],
    )


@require_http_methods(["GET", "POST"])
def invite_page(request: HttpRequest, model_admin) -> HttpResponse:
    """Invite a user: Cognito creates them and e-mails a temporary password."""
    operator = _require_operate(request, "invite")
    form = InviteForm(request.POST or None)
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            outcome = operators.user_invite(operator=operator, **form.cleaned_data)
            if outcome.ok:
                messages.success(request, f"{outcome.user}: {outcome.message}")
                return HttpResponseRedirect(request.path)
            messages.error(request, f"{outcome.user}: {outcome.message}")
        else:
            operators.operator_refused(
                operator=operator,
                action_name="invite",
                email=request.POST.get("email", ""),
                reason=f"invalid form ({form.errors_in_words()})",
            )
        status = HTTPStatus.BAD_REQUEST
    return TemplateResponse(
        request,
        "admin/accounts/user/invite.html",
        _context(model_admin, request, title="Invite a user", form=form),
        status=status,
    )


@require_http_methods(["GET", "POST"])
def reconcile_page(request: HttpRequest, model_admin) -> HttpResponse:
    """Run a reconciliation with the pool (POST) and show what it found."""
    operator = _require_operate(request, "reconcile")
    result, error = None, ""
    if request.method == "POST":
        try:
            result = reconcile.users_reconcile(operator=operator, keep_unseen=reconcile.SHOWN_UNSEEN)
        except cognito.CognitoError as exc:
            error = (
                f"Cognito could not be read to the end ({exc.__class__.__name__}): no one was marked "
                "missing (who the pages read listed as disabled or enabled is mirrored: see the audit trail)."
            )
        except reconcile.ReconcileRunning as exc:
            error = str(exc)
    context = _context(model_admin, request, title="Reconcile with the user pool", result=result, error=error)
    return TemplateResponse(request, "admin/accounts/user/reconcile.html", context)


def _report_each(request: HttpRequest, outcomes: list[operators.Outcome]) -> None:
    """One message per user, done or not: a bulk selection's outcome is never summed up vaguely."""
    for outcome in outcomes:
        (messages.success if outcome.ok else messages.error)(request, f"{outcome.user}: {outcome.message}")


def _act_on_pool_users(request: HttpRequest, operator: operators.Operator) -> None:
    name = request.POST.get("action", "")
    subs = [sub.strip() for sub in request.POST.getlist("sub")]
    if name not in operators.POOL_USER_ACTIONS:
        outcome = operators.operator_refused(
            operator=operator, action_name=name, reason="Unknown action.", detail=f"action={name[:64]}"
        )
        messages.error(request, outcome.message)
    elif not subs:
        messages.error(request, "Choose at least one user.")
    elif len(set(subs)) > operators.POOL_USERS_AT_ONCE:
        outcome = operators.operator_refused(
            operator=operator,
            action_name=name,
            reason=f"At most {operators.POOL_USERS_AT_ONCE} users at once: nothing was done.",
        )
        messages.error(request, outcome.message)
    else:
        _report_each(request, operators.pool_users_bulk(operator=operator, action_name=name, subs=subs))


@require_http_methods(["GET", "POST"])
def pool_users_page(request: HttpRequest, model_admin) -> HttpResponse:
    """The pool users who never signed in here, a bounded window at a time (ListUsers read now), with
    their Cognito state; selected ones can be sent their invitation again or imported (POST)."""
    action_name = request.POST.get("action", "") if request.method == "POST" else "view_state"
    operator = _require_operate(request, action_name)
    if request.method == "POST":
        _act_on_pool_users(request, operator)
        return HttpResponseRedirect(request.get_full_path())
    status = request.GET.get("status", "")
    status = status if status in reconcile.USER_STATUSES else ""
    token = request.GET.get("page", "")[:4096] or None
    window, error = None, ""
    try:
        window = reconcile.pool_users_never_seen(pagination_token=token, status=status)
    except cognito.AdminCallRefused as exc:
        error = (
            f"This page of the list cannot be read any more ({exc.code}): start again from the first page."
        )
    except cognito.CognitoError as exc:
        error = f"Cognito could not be read ({exc.__class__.__name__}): try again later."
    next_url = ""
    if window is not None and window.next_token:
        next_url = "?" + urlencode({"status": status, "page": window.next_token})
    context = _context(
        model_admin,
        request,
        title="Pool users who never signed in",
        window=window,
        error=error,
        status=status,
        statuses=reconcile.USER_STATUSES,
        next_url=next_url,
        first_url="?" + urlencode({"status": status}),
        paged=bool(token),
        may={
            name: operators.operator_may(operator=operator, action_name=name)
            for name in operators.POOL_USER_ACTIONS
        },
    )
    return TemplateResponse(request, "admin/accounts/user/pool_users.html", context)
