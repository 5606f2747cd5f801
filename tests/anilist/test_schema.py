"""Every query the bot can send is valid against AniList's full schema and the fake's subset."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from bot.anilist import USER_QUERY
from bot.anilist.catalogue_builder import PAGES_PER_REQUEST, catalogue_query
from bot.anilist.user_lists import LIST_QUERY
from tests.fakes.anilist_server import SCHEMA_PATH

REPO = Path(__file__).resolve().parents[2]
FULL_SCHEMA = REPO.parent / "shared" / "anilist" / "schema.graphql"

QUERIES = {
    "UserExists": USER_QUERY,
    "UserList": LIST_QUERY,
    "Catalogue (one page)": catalogue_query(range(1, 2)),
    "Catalogue (full request)": catalogue_query(range(91, 91 + PAGES_PER_REQUEST)),
}


@pytest.mark.skipif(not FULL_SCHEMA.exists(), reason=f"{FULL_SCHEMA} is not there")
@pytest.mark.parametrize("name", QUERIES)
def test_query_is_valid_against_anilists_full_schema(name):
    """AniList's own schema accepts the query: no field or argument the API lacks."""
    schema = build_schema(FULL_SCHEMA.read_text())
    assert validate(schema, parse(QUERIES[name])) == []


@pytest.mark.parametrize("name", QUERIES)
def test_query_is_valid_against_the_fakes_schema(name):
    """The fake serves every query the bot sends (so the other tests exercise real queries)."""
    schema = build_schema(SCHEMA_PATH.read_text())
    assert validate(schema, parse(QUERIES[name])) == []
