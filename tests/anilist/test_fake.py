"""The fake answers like AniList: exact error bodies, statuses, headers and its rate limit."""

from __future__ import annotations

import json

from tests.fakes.anilist_server import TOO_MANY_REQUESTS_BODY, FakeAniList

LIST = (
    "query UserList($userName: String) { MediaListCollection(userName: $userName, type: ANIME)"
    " { user { name } } }"
)


async def post(session, fake, query: str, variables: dict | None = None):
    payload = {"query": query, "variables": variables or {}}
    async with session.post(fake.url, json=payload) as response:
        return response.status, response.headers, await response.text()


async def test_unknown_user_gets_anilists_404_body(session, fake):
    """404 with "User not found", its location, and data {"MediaListCollection": null}."""
    status, _, text = await post(session, fake, LIST, {"userName": "Nobody"})
    assert status == 404
    body = json.loads(text)
    assert body["data"] == {"MediaListCollection": None}
    assert body["errors"][0]["message"] == "User not found"
    assert body["errors"][0]["status"] == 404
    assert body["errors"][0]["locations"]


async def test_private_user_gets_404_private_user(session, fake):
    """A private user's list: 404 "Private User"."""
    status, _, text = await post(session, fake, LIST, {"userName": "Secretive"})
    assert (status, json.loads(text)["errors"][0]["message"]) == (404, "Private User")


async def test_unknown_field_gets_400_cannot_query_field(session, fake):
    """Validation against the SDL subset: AniList's wording, double quotes and all."""
    status, _, text = await post(session, fake, '{ User(name: "Alice") { x } }')
    body = json.loads(text)
    assert status == 400
    assert body["data"] is None
    assert body["errors"][0]["message"] == 'Cannot query field "x" on type "User".'


async def test_page_depth_over_5000_is_refused(session, fake):
    """page * perPage over 5,000 is a 400 with AniList's message; exactly 5,000 is allowed."""
    query = "{ Page(page: %d, perPage: 50) { media(type: ANIME) { id } } }"
    status, _, text = await post(session, fake, query % 101)
    assert status == 400
    assert json.loads(text)["errors"][0]["message"] == (
        "Page depth exceeds maximum allowed for API requests (5000 entries)"
    )
    assert (await post(session, fake, query % 100))[0] == 200


async def test_complexity_over_500_is_refused(session, fake):
    """Aliases count separately: 167 aliases of a 3-field selection cost 501."""
    fields = " ".join(f'u{n}: User(name: "Alice") {{ id name }}' for n in range(167))
    status, _, text = await post(session, fake, "{ " + fields + " }")
    assert status == 400
    assert json.loads(text)["errors"][0]["message"] == (
        "Max query complexity should be 500 but got 501."
    )


async def test_rolling_limit_answers_429_with_retry_after_and_exact_body(session, fake_data):
    """Request 4 of a 3-per-window limit gets 429, Retry-After and AniList's body byte for byte;
    200s carry X-RateLimit-Limit/Remaining."""
    async with FakeAniList(fake_data, rate_limit=3, window_s=30, retry_after_s=30) as small:
        remaining = []
        for _ in range(3):
            status, headers, _ = await post(session, small, '{ User(name: "Bob") { id } }')
            assert status == 200
            assert headers["X-RateLimit-Limit"] == "3"
            remaining.append(headers["X-RateLimit-Remaining"])
        status, headers, text = await post(session, small, '{ User(name: "Bob") { id } }')
        assert remaining == ["2", "1", "0"]
        assert (status, headers["Retry-After"], text) == (429, "30", TOO_MANY_REQUESTS_BODY)
        assert small.rate_limited_sent == 1
