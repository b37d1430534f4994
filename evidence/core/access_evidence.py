"""Changes to who may do what are evidence: each is appended to the ledger as an `access.*` entry.

Kinds: `access.user.created`, `access.user.flags` (superuser, staff or active changed: a
deactivation is `active` going false), `access.user.deleted`, `access.group.added`,
`access.group.removed`, `access.token.issued`, `access.token.revoked` (deleted before its expiry)
and `access.token.expired`. Each entry names the user (`subject` `user:<name>`), what changed, who
made the change when known, and the user's whole role state after it (`state`: superuser, staff,
active, groups), so a pack can replay who held which role at any moment of a period.

Signals build the record when the change happens and append it when the transaction commits
(a rolled-back change leaves no evidence). Tokens are named by a hash of knox's digest, never by
anything that would help recover them.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from evidence.core.digests import sorted_json_hash64
from ledger.append import append_entry
from ledger.envelope import Record

SOURCE = "access"
FLAGS = ("is_superuser", "is_staff", "is_active")
_actor = threading.local()  # who is making changes in this request (set by AccessActorMiddleware)


def current_actor() -> str:
    return str(getattr(_actor, "name", "") or "")


class AccessActorMiddleware:
    """Remembers who is signed in for the length of a request, so access entries name who made a
    change in the admin (empty for commands and migrations)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        user = getattr(request, "user", None)
        _actor.name = user.get_username() if user is not None and user.is_authenticated else ""
        try:
            return self.get_response(request)
        finally:
            _actor.name = ""


def role_state(user: Any) -> dict[str, Any]:
    return {
        "superuser": bool(user.is_superuser),
        "staff": bool(user.is_staff),
        "active": bool(user.is_active),
        "groups": sorted(user.groups.values_list("name", flat=True)) if user.pk else [],
    }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_access(kind: str, user: Any, change: dict[str, Any], state: dict[str, Any] | None = None) -> None:
    """Append one access change once the current transaction commits."""
    now = datetime.now(UTC)
    data = {
        "user": user.get_username(),
        "user_id": user.pk,
        "change": change,
        "changed_by": current_actor(),
        "state": state if state is not None else role_state(user),
        "at": _stamp(now),
    }
    record = Record(
        kind=f"access.{kind}",
        source=SOURCE,
        subject=f"user:{user.get_username()}",
        idempotency_key=f"access:{kind}:{user.pk}:{_stamp(now)}:{sorted_json_hash64(data)}",
        data=data,
        observed_at=now,
        occurred_at=now,
    )
    transaction.on_commit(lambda: append_entry(record))


def _flags_before(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        instance._access_before = None
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*FLAGS).first()
    instance._access_before = before


def _user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before = getattr(instance, "_access_before", None)
    if created or before is None:
        record_access("user.created", instance, {flag: bool(getattr(instance, flag)) for flag in FLAGS})
        return
    changed = {
        flag: {"from": bool(before[flag]), "to": bool(getattr(instance, flag))}
        for flag in FLAGS
        if bool(before[flag]) != bool(getattr(instance, flag))
    }
    if changed:
        record_access("user.flags", instance, changed)


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    state = {"superuser": False, "staff": False, "active": False, "groups": []}
    record_access("user.deleted", instance, {}, state)


def _membership_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kw: Any
) -> None:
    if action == "pre_clear":
        related = instance.user_set if reverse else instance.groups
        instance._access_cleared = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set, action = getattr(instance, "_access_cleared", set()), "post_remove"
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    kind = "group.added" if action == "post_add" else "group.removed"
    if reverse:  # group.user_set.add(...): one entry per user
        for user in get_user_model()._default_manager.filter(pk__in=pk_set).order_by("pk"):
            record_access(kind, user, {"groups": [instance.name]})
    else:
        names = sorted(model._default_manager.filter(pk__in=pk_set).values_list("name", flat=True))
        record_access(kind, instance, {"groups": names})


def token_id(digest: str) -> str:
    """A stable name for a token that reveals nothing about it."""
    return hashlib.sha256(f"knox-token:{digest}".encode()).hexdigest()[:16]


def _token_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        expiry = _stamp(instance.expiry.astimezone(UTC)) if instance.expiry else None
        record_access("token.issued", instance.user, {"token": token_id(instance.digest), "expiry": expiry})


def _token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    lapsed = instance.expiry is not None and instance.expiry <= datetime.now(UTC)
    record_access("token.expired" if lapsed else "token.revoked", instance.user, {"token": token_id(instance.digest)})


def connect() -> None:
    from knox.models import AuthToken

    user_model = get_user_model()
    pre_save.connect(_flags_before, sender=user_model, dispatch_uid="access-flags-before")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="access-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="access-user-deleted")
    m2m_changed.connect(_membership_changed, sender=user_model.groups.through, dispatch_uid="access-membership")
    post_save.connect(_token_saved, sender=AuthToken, dispatch_uid="access-token-issued")
    post_delete.connect(_token_deleted, sender=AuthToken, dispatch_uid="access-token-deleted")
