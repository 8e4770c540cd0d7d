"""Clinic settings and staff accounts (administrators), and each staff member's own password.

Thin pages over the core: staff/clinic_settings.py checks and saves the
settings, staff/account_admin.py the account changes, both with their role
checks and audit entries. Every POST redirects when it worked.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_user

from ...service import current_service
from ...staff.clinic_settings import EDITABLE
from ...staff.hashing import HashingBusy
from ...staff.roles import Permission
from ..auth import StaffSession, current_staff, requires
from ..blueprint import bp
from ..forms import ChangePasswordForm, ClinicSettingsForm, NewPasswordForm, RoleForm
from ..workspace import current_workspace

BUSY = "The server is busy checking other passwords. Please try again in a moment."


@bp.route("/settings", methods=["GET", "POST"])
@requires(Permission.ADMINISTER)
def clinic_settings():
    """GET: the clinic's words as visitors get them now. POST: save the changed ones (audited)."""
    workspace, service = current_workspace(), current_service()
    form = ClinicSettingsForm()
    if form.validate_on_submit():
        try:
            changed = workspace.clinic_settings.save(form.values(), current_staff())
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            service.clinic.refresh()  # this server at once; the others within seconds
            flash(f"Saved {len(changed)} setting{'s' if len(changed) != 1 else ''}. Visitors get "
                  "them within a few seconds, on every server." if changed else "Nothing was changed.", "success")
            return redirect(url_for("admin.clinic_settings"))
    elif not form.is_submitted():
        current = service.current_settings()
        form = ClinicSettingsForm.filled({setting.name: current[setting.name] for setting in EDITABLE})
    saved = workspace.clinic_settings.saved()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/clinic_settings.html", form=form, editable=EDITABLE, saved=saved), status


@bp.get("/accounts")
@requires(Permission.ADMINISTER)
def accounts():
    return render_template("admin/accounts.html", accounts=current_workspace().accounts.list())


@bp.post("/accounts/<int:account_id>/role")
@requires(Permission.ADMINISTER)
def set_role(account_id: int):
    account, form = _account(account_id), RoleForm()
    if form.validate_on_submit():
        _done(lambda: current_workspace().account_admin.set_role(current_staff(), account.email, form.role.data),
              f"{account.email} is now {form.role.data}.")
    return redirect(url_for("admin.accounts"))


@bp.post("/accounts/<int:account_id>/<change>")
@requires(Permission.ADMINISTER)
def switch_account(account_id: int, change: str):
    """Disable an account (its sessions end) or enable it again; `change` is disable or enable."""
    if change not in ("disable", "enable"):
        abort(404)
    account, admin = _account(account_id), current_workspace().account_admin
    operation = admin.disable if change == "disable" else admin.enable
    _done(lambda: operation(current_staff(), account.email),
          f"Disabled {account.email}; its sessions have ended." if change == "disable"
          else f"{account.email} can sign in again.")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<int:account_id>/password", methods=["GET", "POST"])
@requires(Permission.ADMINISTER)
def reset_password(account_id: int):
    account, form = _account(account_id), NewPasswordForm()
    if form.validate_on_submit():
        try:
            current_workspace().account_admin.reset_password(current_staff(), account.email, form.password.data)
        except HashingBusy:
            form.form_errors.append(BUSY)
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Set a new password for {account.email}; its sessions have ended. Give it to them in person.",
                  "success")
            return redirect(url_for("admin.accounts"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/password.html", form=form, account=account), status


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Any staff member changes their own password; their other sessions end, this one goes on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        workspace, user = current_workspace(), current_user.user
        try:
            changed = workspace.account_admin.change_own_password(current_staff(), user.id, form.current.data,
                                                                  form.password.data)
        except HashingBusy:
            form.form_errors.append(BUSY)
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            if changed:
                login_user(StaffSession(workspace.accounts.get(user.id)))  # this session, at the new version
                flash("Your password is changed. Your other sessions have ended.", "success")
                return redirect(url_for("admin.dashboard"))
            form.current.errors.append("This is not your current password.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/password.html", form=form, account=None), status


def _account(account_id: int):
    return current_workspace().accounts.get(account_id) or abort(404)


def _done(change, message: str) -> None:
    """Run an account change; flash `message`, or why it was refused."""
    try:
        change()
    except ValueError as error:
        flash(f"Not changed: {error}.", "error")
    else:
        flash(message, "success")
