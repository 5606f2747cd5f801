"""Learning AniList's title language of a linked account, for /settings' "AniList's preference".

It usually comes for free: with /link's lookup and with every fetch of the account's list
(bot/anilist/user_lists.py). This asks for it when neither has brought it yet, e.g. for a link
made before the bot read it; AniList being down or slow only leaves it unknown (titles stay in
romaji until it is known).
"""

from __future__ import annotations

import logging

from bot.anilist import AniListClient, AniListQueryError
from bot.errors import UserFacingError
from bot.storage import MemberSettingsStore

log = logging.getLogger(__name__)

# Someone is waiting for /settings: better romaji now than a long wait.
LOOKUP_DEADLINE_S = 5.0


async def learn_anilist_language(
    client: AniListClient, store: MemberSettingsStore, username: str
) -> None:
    """Ask AniList for the account's title language and note it for everyone linked to it;
    on any AniList failure, log it and keep what was known."""
    try:
        account = await client.find_user(username, deadline_s=LOOKUP_DEADLINE_S)
    except (UserFacingError, AniListQueryError) as error:
        log.info("could not read %s's AniList title language: %s", username, error)
        return
    await store.remember_anilist_language(account.name, account.title_language)
