"""The ``mixer`` command: Flask's CLI (run, routes, shell, db) plus Mixer's own."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from mixer.errors import DomainError
from mixer.extensions import db


def main() -> None:
    """Entry point of the ``mixer`` console script."""
    from mixer import create_app

    cli = FlaskGroup(
        create_app=lambda: create_app(), help="Mixer: micro-mentoring events."
    )
    cli.main(prog_name="mixer")


def register_commands(app: Flask) -> None:
    """Attach Mixer's commands to the app's CLI group."""
    for command in (init_db, seed_demo, create_org, create_user, create_token, worker):
        app.cli.add_command(command)
    for command in (deactivate_user, reactivate_user):
        app.cli.add_command(command)
    for command in (backup, restore, recount_pairs):
        app.cli.add_command(command)
    from mixer.proxy_pages import proxy_pages

    app.cli.add_command(proxy_pages)  # the pages nginx answers with (deploy/)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Apply all migrations (safe to run again)."""
    from flask_migrate import upgrade

    upgrade(revision="heads")  # several feature branches may be open
    click.echo("Database is up to date.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create or refresh the demo organization and print its logins."""
    from mixer.demo import seed

    logins = seed()
    db.session.commit()
    click.echo(
        "Demo data is ready. Sign in at " + current_app.config["BASE_URL"] + "/login"
    )
    for role, email, password in logins:
        click.echo(f"  {role:<10} {email:<32} password: {password}")


@click.command("create-org")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the organization.")
@click.option(
    "--kind", type=click.Choice(["company", "school", "community"]), default="company"
)
@with_appcontext
def create_org(slug: str, name: str, kind: str) -> None:
    """Create an organization."""
    from mixer.orgs.services import create_organization

    try:
        org = create_organization(slug=slug, name=name, kind=kind)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created organization {org.slug} ({org.name}).")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--org", "org_slug", required=True, help="Slug of the organization.")
@click.option(
    "--role",
    type=click.Choice(["admin", "organizer", "speaker", "member"]),
    default="member",
)
@click.option("--department", default=None)
@click.option("--level", type=int, default=None)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
@with_appcontext
def create_user(email, name, org_slug, role, department, level, password_stdin) -> None:
    """Create a person (or add an existing one) in an organization with a role."""
    from mixer.orgs.services import add_member, get_org

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        org = get_org(org_slug)
        membership = add_member(
            org,
            email=email,
            name=name,
            role=role,
            department=department,
            level=level,
            password=password,
        )
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{membership.user.email} is {membership.role} of {org.slug}.")


@click.command("create-token")
@click.argument("email")
@click.option("--org", "org_slug", required=True)
@click.option(
    "--name", default="command line", help="A label to recognise the token by."
)
@with_appcontext
def create_token(email: str, org_slug: str, name: str) -> None:
    """Print a new API bearer token for EMAIL in ORG (only the token)."""
    from mixer.accounts.services import create_api_token, get_user_by_email
    from mixer.orgs.services import get_org

    try:
        org = get_org(org_slug)
        user = get_user_by_email(email)
        _, secret = create_api_token(user, org, name)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(secret)


def _account(email: str):
    """The account of EMAIL, or the command stops saying there is none."""
    from mixer.accounts import services

    try:
        return services.get_user_by_email(email)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("deactivate-user")
@click.argument("email")
@with_appcontext
def deactivate_user(email: str) -> None:
    """Stop EMAIL's account: signed out everywhere at once, no sign-in, no API."""
    from mixer.accounts import services

    user = _account(email)
    services.deactivate_user(user)
    db.session.commit()
    click.echo(f"{user.email} is deactivated and signed out everywhere.")


@click.command("reactivate-user")
@click.argument("email")
@with_appcontext
def reactivate_user(email: str) -> None:
    """Let EMAIL's deactivated account sign in again."""
    from mixer.accounts import services

    user = _account(email)
    services.reactivate_user(user)
    db.session.commit()
    click.echo(f"{user.email} can sign in again.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now and exit.")
@click.option(
    "--queues",
    metavar="LIST",
    default=None,
    help=(
        "Comma-separated queues to serve, of mail (the outbox), default (ordinary"
        " jobs) and heavy (badge sheets, rotation printouts). Default: all."
        " Whatever the order given, a worker claims mail first, then default,"
        " then heavy."
    ),
)
@with_appcontext
def worker(once: bool, queues: str | None) -> None:
    """Deliver queued e-mail and run due jobs (until SIGTERM, or once).

    A worker busy with a heavy job sends no mail until it is done: to keep
    sign-in links quick while badge sheets are drawn, run one worker with
    --queues mail,default and another with --queues heavy.
    """
    import logging

    from mixer.worker import check_config, describe, parse_queues, run_forever, run_once

    try:
        served = parse_queues(queues)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--queues'") from exc
    try:
        check_config()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    if once:
        click.echo(describe(run_once(queues=served)))
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_forever(app, queues=served)


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--archive", is_flag=True, help="Write one .tar.gz file.")
@with_appcontext
def backup(dest: Path, archive: bool) -> None:
    """Back up the database, instance secrets and stored files to DEST."""
    from mixer.backup import BackupError
    from mixer.backup import backup as make_backup

    try:
        done = make_backup(current_app._get_current_object(), dest, archive=archive)  # type: ignore[attr-defined]
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = done.manifest
    click.echo(
        f"Backed up the {manifest['database']['kind']} database (revision "
        f"{manifest['alembic_revision']}) and {done.files} stored files, "
        f"{done.size / 1e6:.1f} MB, to {done.path}."
    )
    if not manifest["secret_key_in_backup"]:
        click.echo("SECRET_KEY is set outside the instance folder: keep it safe too.")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@with_appcontext
def restore(src: Path, force: bool) -> None:
    """Restore a backup (folder or .tar.gz) made by ``mixer backup``."""
    from mixer.backup import BackupError, code_revision
    from mixer.backup import restore as restore_backup

    try:
        done = restore_backup(current_app._get_current_object(), src, force=force)  # type: ignore[attr-defined]
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = done.manifest
    click.echo(
        f"Restored the backup of {manifest['created_at']}: the database at revision "
        f"{manifest['alembic_revision']} and {done.files} stored files."
    )
    if manifest["alembic_revision"] != code_revision(current_app):
        click.echo("Run mixer init-db to bring the schema to this version of Mixer.")


@click.command("recount-pairs")
@click.option("--fix", is_flag=True, help="Replace the kept tallies with the recount.")
@with_appcontext
def recount_pairs(fix: bool) -> None:
    """Check the pairs overview's monthly tallies against the check-ins.

    The database keeps them with triggers; this finds a difference (after a
    restore of an old dump, or a table rebuilt without its triggers) and, with
    --fix, mends it. Exits 1 when they differ and --fix is not given.
    """
    from mixer.pairs import tallies

    differences = tallies.check()
    for (org_id, month), (kept, counted) in sorted(differences.items()):
        click.echo(
            f"organization {org_id}, {month}: kept {kept[0]} held {kept[1]} missed,"
            f" counted {counted[0]} held {counted[1]} missed"
        )
    if not differences:
        click.echo("The monthly tallies equal a recount of the check-ins.")
    elif fix:
        months = tallies.rebuild()
        db.session.commit()
        click.echo(f"Rebuilt {months} monthly tallies from the check-ins.")
    else:
        raise SystemExit(1)
