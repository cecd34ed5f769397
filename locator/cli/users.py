"""``locator users``: staff accounts (add, list, disable)."""

from __future__ import annotations

import sys

import click

from locator import config
from locator.cli import tabular
from locator.errors import LocatorError
from locator.living import accounts


def _password() -> str:
    # A script pipes the password in; a person at a terminal is asked twice.
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@click.group("users")
def users() -> None:
    """Union staff accounts (工会工作人员账号)."""


@users.command("add")
@click.argument("email")
@click.option("--union", "union", required=True,
              help="Adcode of the union the role is held on (410000, 410100, 410105 ...).")
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor",
              show_default=True, help="editor: edit stations, handle reports; admin: also "
                                      "manage accounts. Covers the union's whole subtree.")
def add(email: str, union: str, role: str) -> None:
    """Create an account; the password is read from standard input when it is not a terminal."""
    try:
        staff = accounts.add(config.load(), email, _password(), union=union, role=role)
    except LocatorError as exc:
        click.echo(f"{exc.field or 'error'}: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"added {staff.email}: {role} of union {union}")


@users.command("list")
def list_users() -> None:
    """Every account with its roles."""
    rows = accounts.listing(config.load())
    click.echo(tabular.render(["email", "active", "roles"],
                              [[r["email"], "yes" if r["active"] else "no", r["roles"]]
                               for r in rows]))


@users.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account: it can no longer log in, and its sessions end."""
    try:
        accounts.disable(config.load(), email)
    except LocatorError as exc:
        click.echo(f"{exc.field or 'error'}: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"disabled {email}")
