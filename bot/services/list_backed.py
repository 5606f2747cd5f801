"""What the services that answer from people's lists and the served models hold."""

from __future__ import annotations

from dataclasses import dataclass

from bot.anilist.user_lists import UserListService
from bot.services.recommendations import RecommendationService
from bot.storage import Database, MediaStore


@dataclass
class ListBackedService:
    """The database, AniList lists, served models and title store a service reads."""

    db: Database
    lists: UserListService
    recommendations: RecommendationService
    media: MediaStore
