"""Managing staff accounts from the workspace: roles, disabling and enabling, password resets
(administrators), and each staff member's own password. Every change is audited.

The command line (`flask staff ...`) works on StaffAccounts directly: whoever
runs it already controls the server.
"""
from __future__ import annotations

from .accounts import StaffAccounts
from .audit import AuditLog
from .roles import Actor, Permission, Role, checked_role, require


class AccountAdmin:
    """Account changes with their role checks (Forbidden) and audit entries."""

    def __init__(self, accounts: StaffAccounts, audit: AuditLog):
        self.accounts = accounts
        self.audit = audit

    def set_role(self, actor: Actor, email: str, role: Role | str) -> bool:
        """Give `email` a role; False for an unknown account. An administrator cannot lower their
        own role (someone must be left to manage accounts): ValueError."""
        name = self._administrator(actor, "change roles")
        role = checked_role(role)
        if _same(email, name) and role != Role.ADMIN:
            raise ValueError("you cannot lower your own role; ask another administrator")
        changed = self.accounts.set_role(email, role)
        if changed:
            self.audit.record(name, "account_role", {"email": email, "role": role.value})
        return changed

    def disable(self, actor: Actor, email: str) -> bool:
        """Stop `email` signing in and end its sessions; ValueError for one's own account."""
        name = self._administrator(actor, "disable accounts")
        if _same(email, name):
            raise ValueError("you cannot disable your own account")
        changed = self.accounts.disable(email)
        if changed:
            self.audit.record(name, "account_disable", {"email": email})
        return changed

    def enable(self, actor: Actor, email: str) -> bool:
        name = self._administrator(actor, "enable accounts")
        changed = self.accounts.enable(email)
        if changed:
            self.audit.record(name, "account_enable", {"email": email})
        return changed

    def reset_password(self, actor: Actor, email: str, password: str) -> bool:
        """Set `email`'s password (its sessions end); ValueError for a password that breaks the rules."""
        name = self._administrator(actor, "reset passwords")
        changed = self.accounts.reset_password(email, password)
        if changed:
            self.audit.record(name, "account_password_reset", {"email": email})
        return changed

    def change_own_password(self, actor: Actor, user_id: int, current: str, new: str) -> bool:
        """The signed-in staff member's new password, when `current` is right (False otherwise).
        Their other sessions end."""
        changed = self.accounts.change_password(user_id, current, new)
        self.audit.record(actor.name, "password_change" if changed else "password_change_refused", {})
        return changed

    def _administrator(self, actor: Actor, doing: str) -> str:
        return require(actor, Permission.ADMINISTER, doing).name


def _same(email: str, name: str) -> bool:
    return email.strip().lower() == name.strip().lower()
