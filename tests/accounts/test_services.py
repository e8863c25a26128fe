"""Account services called directly: passwords, links, profile, tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mixer import tokens
from mixer.accounts import services
from mixer.accounts.models import User
from mixer.accounts.services import AccountError
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.mail.preferences import unsubscribe_url
from mixer.tokens.models import UsedToken
from tests.helpers import PASSWORD


@pytest.fixture
def user(org, make_user):
    return make_user(org, email="ada@example.org", name="Ada Lovelace")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/o/acme/", "/o/acme/"),
        ("/o/acme/events/?when=past#top", "/o/acme/events/?when=past#top"),
        ("", None),
        (None, None),
        ("o/acme", None),
        ("//evil.example.org", None),
        ("/\\evil.example.org", None),
        ("https://evil.example.org/o/acme/", None),
        ("/ok\r\nSet-Cookie: x=1", None),
        ("javascript:alert(1)", None),
    ],
)
def test_safe_next_keeps_only_local_paths(url, expected):
    assert services.safe_next(url) == expected


def test_authenticate_checks_the_password(app, user):
    assert services.authenticate("Ada@Example.org", PASSWORD) == user
    assert services.authenticate("ada@example.org", "wrong password") is None
    assert services.authenticate("nobody@example.org", PASSWORD) is None
    assert services.authenticate("not an address", PASSWORD) is None


def test_inactive_people_cannot_sign_in(app, user):
    user.is_active_account = False
    db.session.commit()
    assert services.authenticate("ada@example.org", PASSWORD) is None
    assert services.send_magic_link("ada@example.org") is False


def test_change_password_needs_the_current_one(app, user):
    with pytest.raises(AccountError) as exc:
        services.change_password(user, "wrong", "a new long passphrase")
    assert exc.value.field == "current_password"
    with pytest.raises(AccountError) as exc:
        services.change_password(user, PASSWORD, "short")
    assert exc.value.field == "new_password"
    services.change_password(user, PASSWORD, "a new long passphrase")
    assert services.authenticate("ada@example.org", "a new long passphrase") == user


def test_people_without_a_password_may_set_one(app, org):
    from mixer.orgs.services import add_member

    person = add_member(org, "bob@example.org", "Bob").user
    assert person.password_hash is None
    services.change_password(person, None, "first ever passphrase")
    assert services.authenticate("bob@example.org", "first ever passphrase") == person


def test_magic_link_check_does_not_spend_but_use_does(app, user, outbox):
    assert services.send_magic_link("ada@example.org", "//evil.example.org") is True
    db.session.commit()
    [msg] = outbox()
    token = msg.get_body(("plain",)).get_content().split("/login/magic/")[1].split()[0]
    assert services.check_magic_link(token) == user
    assert services.check_magic_link(token) == user
    person, next_url = services.use_magic_link(token)
    assert person == user and next_url == ""  # the unsafe next was dropped
    assert person.last_login_at is not None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(UsedToken)) == 1
    with pytest.raises(LinkError) as exc:
        services.use_magic_link(token)
    assert exc.value.reason == "used"


def test_magic_link_for_unknown_address_sends_nothing(app, user, outbox):
    assert services.send_magic_link("nobody@example.org") is False
    assert outbox() == []


def test_reset_link_stops_working_once_used(app, user):
    services.send_password_reset("ada@example.org")
    token = tokens.make(
        "reset", {"uid": user.id, "fp": services._reset_fingerprint(user)}
    )
    services.reset_password(token, "a fresh passphrase here")
    with pytest.raises(LinkError) as exc:
        services.check_reset_token(token)
    assert exc.value.reason == "used"


def test_update_profile_normalises_and_validates(app, user):
    services.update_profile(
        user,
        name="  Ada   King ",
        pronouns="she/her",
        bio="  Engines.  ",
        offers="Maths, POETRY, maths,, ",
        seeks=["Steam", "steam "],
        notifications={"digest": False},
    )
    assert user.name == "Ada King" and user.bio == "Engines."
    assert user.offers == ["maths", "poetry"] and user.seeks == ["steam"]
    assert user.wants("event_reminders") and not user.wants("digest")
    with pytest.raises(AccountError) as exc:
        services.update_profile(user, name="   ")
    assert exc.value.field == "name"
    with pytest.raises(AccountError) as exc:
        services.update_profile(user, pronouns="x" * 41)
    assert exc.value.field == "pronouns"


def test_api_tokens_are_hashed_scoped_and_revocable(app, org, user, make_org):
    token, secret = services.create_api_token(user, org, "  sync  ")
    db.session.commit()
    assert token.name == "sync" and secret.startswith("mxr_")
    assert (
        secret not in (token.token_hash, token.prefix) and token.prefix == secret[:10]
    )
    assert services.token_for_secret(secret) == token
    assert services.list_api_tokens(user) == [token]
    with pytest.raises(AccountError, match="is not a member of"):
        services.create_api_token(user, make_org(), "elsewhere")

    stranger = User(email="eve@example.org", name="Eve", offers=[], seeks=[])
    db.session.add(stranger)
    db.session.flush()
    assert services.get_user_api_token(stranger, token.id) is None
    assert services.get_user_api_token(user, token.id) == token

    services.revoke_api_token(token)
    assert services.token_for_secret(secret) is None


def test_unsubscribe_turns_off_one_kind(app, user):
    url = unsubscribe_url(user.id, "pair_checkins")
    token = url.rsplit("/", 1)[1]
    assert services.read_unsubscribe(token) == (user, "pair_checkins")
    assert user.wants("pair_checkins")
    services.unsubscribe(token)
    assert not user.wants("pair_checkins") and user.wants("digest")
    with pytest.raises(LinkError, match="not valid") as exc:
        services.read_unsubscribe(tokens.make("login", {"uid": user.id}))
    assert exc.value.title == "This unsubscribe link cannot be used"
