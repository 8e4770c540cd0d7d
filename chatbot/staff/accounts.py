"""Staff accounts: create, sign in, disable and enable, roles, passwords, and end every session of an account."""
from __future__ import annotations

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..storage import Storage, StorageError
from .hashing import HashingGate, NoGate
from .model import BULK, StaffUser, checked_id, is_conflict, transaction, utc_now
from .roles import Role, checked_role
from .tables import EMAIL_LENGTH, StaffUserRow

# scrypt with n = 2**17, r = 8, p = 1: 128 MiB and about 0.4 s per hash, so a
# stolen table costs an attacker the same per guess (OWASP's scrypt minimum).
PASSWORD_METHOD = "scrypt:131072:8:1"
MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase; longer is someone testing the server's patience.
MAX_PASSWORD_LENGTH = 1024


class StaffAccounts:
    """The staff accounts in `storage`'s database; each method is one short transaction.

    Passwords are hashed outside any transaction: a slow hash must not hold
    the SQLite write lock or a pooled connection. So authenticate() reads the
    account, checks the password, then records the sign-in: two transactions.
    Every hash runs inside `hashing.hold()`, the server's limit on concurrent
    hashes, which may raise HashingBusy.
    """

    def __init__(self, storage: Storage, password_method: str = PASSWORD_METHOD,
                 hashing: HashingGate | NoGate | None = None):
        """`password_method` is werkzeug's; tests pass a cheaper scrypt. `hashing`: no limit when None."""
        self.storage = storage
        self.password_method = password_method
        self.hashing = hashing or NoGate()

    def create(self, email: str, password: str, role: Role | str | None = None) -> StaffUser:
        """A new active account; ValueError for a malformed email, a short password, an unknown
        role or an email in use. Without a `role`, the first account is an administrator (someone
        must be able to manage the others) and any later one an editor."""
        email = normalise_email(email)
        check_new_password(password)
        chosen = None if role is None else checked_role(role)
        with self.hashing.hold():
            password_hash = generate_password_hash(password, method=self.password_method)
        row = StaffUserRow(email=email, password_hash=password_hash, active=True,
                           session_version=1, created_at=utc_now(), last_login_at=None)
        try:
            with transaction(self.storage, "creating a staff account", write=True) as session:
                if session.scalar(select(StaffUserRow.id).where(StaffUserRow.email == email)) is not None:
                    raise ValueError(f"an account for {email} exists already")
                first = session.scalar(select(StaffUserRow.id).limit(1)) is None
                row.role = (chosen or (Role.ADMIN if first else Role.EDITOR)).value
                session.add(row)
                session.flush()
                return _user(row)
        except StorageError as error:
            if is_conflict(error):  # created by someone else between the check and the insert
                raise ValueError(f"an account for {email} exists already") from None
            raise

    def authenticate(self, email: str, password: str) -> StaffUser | None:
        """The account, its last_login_at set to now, when `password` is right; None otherwise.

        None alike for an unknown email, a wrong password and a disabled
        account, and each costs one password hash, so neither the answer nor
        its time tells which emails have accounts. HashingBusy when the
        server's hashing slots stay taken (nothing was checked: try again).
        """
        if not isinstance(password, str):
            password = ""
        try:
            email = normalise_email(email)
        except ValueError:
            email = None
        found = None
        if email is not None:
            query = select(StaffUserRow.id, StaffUserRow.password_hash, StaffUserRow.active).where(
                StaffUserRow.email == email)
            with transaction(self.storage, "reading a staff account") as session:
                found = session.execute(query).first()
        with self.hashing.hold():
            if found is None:
                # As costly as checking a password: the time taken does not tell that no account exists.
                generate_password_hash(password, method=self.password_method)
                return None
            user_id, password_hash, active = found
            right = check_password_hash(password_hash, password)
        if not right or not active:
            return None
        # Only if the account was not disabled, nor its password changed, while hashing.
        signed_in = (update(StaffUserRow)
                     .where(StaffUserRow.id == user_id, StaffUserRow.active.is_(True),
                            StaffUserRow.password_hash == password_hash)
                     .values(last_login_at=utc_now()))
        with transaction(self.storage, "recording a staff sign-in", write=True) as session:
            if session.execute(signed_in, execution_options=BULK).rowcount != 1:
                return None
            return _user(session.get_one(StaffUserRow, user_id))

    def get(self, user_id: int) -> StaffUser | None:
        """The account with id `user_id` (active or not), or None."""
        user_id = checked_id(user_id, "a staff account id")
        with transaction(self.storage, "reading a staff account") as session:
            row = session.get(StaffUserRow, user_id)
            return None if row is None else _user(row)

    def disable(self, email: str) -> bool:
        """Stop the account signing in and end its sessions; False when no account has `email`."""
        return self._update_by_email(email, "disabling a staff account", active=False,
                                     session_version=StaffUserRow.session_version + 1)

    def enable(self, email: str) -> bool:
        """Let a disabled account sign in again; False when no account has `email`."""
        return self._update_by_email(email, "enabling a staff account", active=True)

    def set_role(self, email: str, role: Role | str) -> bool:
        """Give the account `role` (its sessions go on, with the new rights from their next
        request); False when no account has `email`, ValueError for an unknown role."""
        role = checked_role(role)
        return self._update_by_email(email, "changing a staff role", role=role.value)

    def change_password(self, user_id: int, current: str, new: str) -> bool:
        """Set a new password when `current` is right; False when it is not. Every other session
        of the account ends (its session_version changes: read it again with get()).
        ValueError for a new password that breaks the rules; HashingBusy as for sign-ins."""
        user_id = checked_id(user_id, "a staff account id")
        check_new_password(new)
        with transaction(self.storage, "reading a staff account") as session:
            old_hash = session.scalar(select(StaffUserRow.password_hash).where(StaffUserRow.id == user_id))
        with self.hashing.hold():
            if old_hash is None or not check_password_hash(old_hash, current if isinstance(current, str) else ""):
                return False
            new_hash = generate_password_hash(new, method=self.password_method)
        changed = (update(StaffUserRow).where(StaffUserRow.id == user_id, StaffUserRow.password_hash == old_hash)
                   .values(password_hash=new_hash, session_version=StaffUserRow.session_version + 1))
        with transaction(self.storage, "changing a staff password", write=True) as session:
            return session.execute(changed, execution_options=BULK).rowcount == 1

    def reset_password(self, email: str, new: str) -> bool:
        """An administrator sets the account's password; its sessions end. False for an unknown email."""
        check_new_password(new)
        with self.hashing.hold():
            new_hash = generate_password_hash(new, method=self.password_method)
        return self._update_by_email(email, "resetting a staff password", password_hash=new_hash,
                                     session_version=StaffUserRow.session_version + 1)

    def _update_by_email(self, email: str, action: str, **values) -> bool:
        try:
            email = normalise_email(email)
        except ValueError:
            return False
        changed = update(StaffUserRow).where(StaffUserRow.email == email).values(**values)
        with transaction(self.storage, action, write=True) as session:
            return session.execute(changed, execution_options=BULK).rowcount == 1

    def bump_session(self, user_id: int) -> int:
        """End every session of the account (sign out everywhere); its new session_version.

        ValueError for an unknown id.
        """
        user_id = checked_id(user_id, "a staff account id")
        bumped = (update(StaffUserRow).where(StaffUserRow.id == user_id)
                  .values(session_version=StaffUserRow.session_version + 1))
        with transaction(self.storage, "ending staff sessions", write=True) as session:
            if session.execute(bumped, execution_options=BULK).rowcount != 1:
                raise ValueError(f"no staff account has id {user_id}")
            return session.scalar(select(StaffUserRow.session_version).where(StaffUserRow.id == user_id))

    def list(self) -> list[StaffUser]:
        """Every account, active or not, by email."""
        with transaction(self.storage, "listing staff accounts") as session:
            return [_user(row) for row in session.scalars(select(StaffUserRow).order_by(StaffUserRow.email))]


def normalise_email(email: str) -> str:
    """`email` trimmed and in lower case; ValueError unless it looks like name@domain.tld."""
    if not isinstance(email, str):
        raise ValueError(f"email must be text, not {type(email).__name__}")
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    looks_right = (at and local and "@" not in domain and "." in domain
                   and not domain.startswith(".") and not domain.endswith(".")
                   and email.isprintable() and not any(c.isspace() for c in email))
    if not looks_right:
        raise ValueError(f"not an email address: {email[:80]!r}")
    if len(email) > EMAIL_LENGTH:
        raise ValueError(f"email is longer than {EMAIL_LENGTH} characters")
    return email


def check_new_password(password: str) -> None:
    """ValueError unless `password` is text of 12 to 1024 characters."""
    if not isinstance(password, str):
        raise ValueError(f"password must be text, not {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")


def _user(row: StaffUserRow) -> StaffUser:
    return StaffUser(row.id, row.email, row.active, row.session_version, row.created_at, row.last_login_at,
                     row.role)
