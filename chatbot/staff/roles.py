"""Who may do what in the staff workspace: three roles, each with the rights of the ones before it.

    editor      changes the knowledge (FAQ entries, pages, check questions) and builds candidates
    publisher   also publishes, rolls back and overrides the safety gate
    admin       also manages accounts and the clinic settings

The core checks these itself (`require`), so a door cannot forget: the pages
pass the signed-in account as an `Actor`, the command line and train.py act
as COMMAND_LINE, an administrator.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    EDITOR = "editor"
    PUBLISHER = "publisher"
    ADMIN = "admin"


ROLE_RANK = {Role.EDITOR: 0, Role.PUBLISHER: 1, Role.ADMIN: 2}
ROLE_LABELS = {Role.EDITOR: "Editor: changes the knowledge and builds candidates",
               Role.PUBLISHER: "Publisher: also publishes, rolls back and overrides the safety checks",
               Role.ADMIN: "Administrator: also manages accounts and the clinic settings"}
ROLE_LENGTH = 16  # StaffUserRow.role


class Permission(StrEnum):
    EDIT = "edit"            # knowledge and builds
    PUBLISH = "publish"      # publish, roll back, override the gate
    ADMINISTER = "administer"  # accounts and clinic settings


LOWEST_ROLE = {Permission.EDIT: Role.EDITOR, Permission.PUBLISH: Role.PUBLISHER,
               Permission.ADMINISTER: Role.ADMIN}


class Forbidden(PermissionError):
    """The actor's role does not allow the operation; the message says which role does."""


@dataclass(frozen=True)
class Actor:
    """Who acts: the name written in the audit log and the role that decides what they may do."""
    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[LOWEST_ROLE[permission]]


COMMAND_LINE = Actor("command line", Role.ADMIN)


def checked_role(value) -> Role:
    """`value` as a Role; ValueError naming the roles for anything else."""
    try:
        return Role(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(f"role must be one of {', '.join(r.value for r in Role)}, not {value!r}") from None


def require(actor, permission: Permission, doing: str) -> Actor:
    """`actor` when it is an Actor whose role allows `permission`; Forbidden otherwise.

    `doing` names the operation for the message ("publish a version").
    """
    if not isinstance(actor, Actor):
        raise Forbidden(f"only a staff member with a role may {doing}")
    if not actor.may(permission):
        needed = LOWEST_ROLE[permission]
        raise Forbidden(f"{actor.name} is {_article(actor.role)} {actor.role.value}: "
                        f"only {_article(needed)} {needed.value} or above may {doing}")
    return actor


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"
