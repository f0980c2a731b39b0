"""Users: tokens stored only as hashes, re-issued tokens replace the old ones, groups change."""

from __future__ import annotations

import pytest

from engine.errors import Unauthorized
from engine.persistence.tables import users
from engine.services import Services, accounts
from engine.services.accounts import reissue_token, set_groups


def test_a_reissued_token_replaces_the_old_one(services: Services) -> None:
    user, old = accounts.create_user(services, "周七", "clerk", ["front_desk"])
    with services.engine.connect() as conn:
        stored = conn.execute(users.select()).one()
    assert old not in stored.token_hash  # only the hash is kept
    assert accounts.authenticate(services, old).name == "周七"
    new = reissue_token(services, "周七")
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, old)
    assert accounts.authenticate(services, new).groups == frozenset({"front_desk"})
    set_groups(services, "周七", ["issuance", "inspection"])
    assert accounts.authenticate(services, new).groups == frozenset({"issuance", "inspection"})
