"""Everything that talks to AniList: the GraphQL client and its shared rate budget, users'
lists (cached in storage) and the title catalogue kept in the background.

The client's public surface is re-exported here; the list and catalogue services are imported
from their modules.
"""

from bot.anilist.client import AniListAccount, AniListClient
from bot.anilist.errors import (
    AniListPrivateUser,
    AniListQueryError,
    AniListRateLimited,
    AniListUnavailable,
    AniListUserNotFound,
    InvalidUsername,
)
from bot.anilist.queries import (
    MEDIA_FIELDS,
    MEDIA_TYPES,
    USER_QUERY,
    Field,
    count_fields,
    fields,
    render,
    validate_username,
)

__all__ = [
    "MEDIA_FIELDS",
    "MEDIA_TYPES",
    "USER_QUERY",
    "AniListAccount",
    "AniListClient",
    "AniListPrivateUser",
    "AniListQueryError",
    "AniListRateLimited",
    "AniListUnavailable",
    "AniListUserNotFound",
    "Field",
    "InvalidUsername",
    "count_fields",
    "fields",
    "render",
    "validate_username",
]
