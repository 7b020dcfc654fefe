"""Staff accounts from the command line, on the configured database (OMS_DATABASE_URL): the first
admin before anybody can sign in, and a way back in when nobody remembers a password.

    .venv/bin/python -m ops.users create --role admin EMAIL [--location ID ...] [--password-stdin]
    .venv/bin/python -m ops.users list
    .venv/bin/python -m ops.users disable EMAIL
    .venv/bin/python -m ops.users set-password EMAIL [--password-stdin]

The password is asked for twice (not echoed), or read from the first line of standard input with
--password-stdin (for scripts). Exit codes: 0 done, 1 refused (a weak password, an e-mail taken, an
unknown user), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from config import startup_settings
from domain.accounts import normal_email, password_problems
from domain.staff import Role
from persistence.db import create_db_engine, create_session_factory
from services.accounts import Accounts
from services.errors import ServiceError
from services.unit_of_work import units_on

REFUSED = 1
USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ops.users", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="a new staff account")
    create.add_argument("email")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--location", action="append", default=[], help="a warehouse user's location (repeat)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    commands.add_parser("list", help="everybody, with role, locations and state")
    disable = commands.add_parser("disable", help="end their sessions and tokens; they cannot sign in")
    disable.add_argument("email")
    set_password = commands.add_parser("set-password", help="a new password; their sessions end")
    set_password.add_argument("email")
    set_password.add_argument("--password-stdin", action="store_true")
    return parser


def read_password(
    email: str, from_stdin: bool, stdin: TextIO, ask: Callable[[str], str] = getpass.getpass
) -> str | None:
    """The new password, checked against the policy before it is sent anywhere; None (said why on
    stderr) when it will not do or the two typed differ."""
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = ask("Password: ")
        if ask("Password again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return None
    problems = password_problems(password, email)
    for problem in problems:
        print(problem, file=sys.stderr)
    return None if problems else password


def run(argv: Sequence[str], accounts: Accounts, stdin: TextIO = sys.stdin) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse said what is wrong (or printed the help)
        return 0 if exit_.code in (0, None) else USAGE
    try:
        if args.command == "list":
            for user in accounts.users():
                where = ",".join(user.location_ids) if user.role == Role.WAREHOUSE else "all"
                state = "disabled" if user.disabled_at else "active"
                print(f"{user.email}\t{user.role}\t{where}\t{state}")
            return 0
        email = normal_email(args.email)
        if args.command == "create":
            password = read_password(email, args.password_stdin, stdin)
            if password is None:
                return REFUSED
            user = accounts.create_user(email, password, Role(args.role), args.location)
            print(f"created {user.email} ({user.role})")
            return 0
        user_id = _by_email(accounts, email)
        if user_id is None:
            print(f"no account for {email}", file=sys.stderr)
            return REFUSED
        if args.command == "disable":
            accounts.disable(user_id)
            print(f"disabled {email}: their sessions and tokens are ended")
            return 0
        password = read_password(email, args.password_stdin, stdin)
        if password is None:
            return REFUSED
        accounts.set_password(user_id, password)
        print(f"password set for {email}; their sessions are ended")
        return 0
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return REFUSED


def _by_email(accounts: Accounts, email: str) -> str | None:
    return next((user.id for user in accounts.users() if user.email == email), None)


def main() -> int:
    settings = startup_settings("users")
    engine = create_db_engine(settings.resolved_database_url, pool_size=2)
    try:
        return run(sys.argv[1:], Accounts(units_on(create_session_factory(engine))))
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
