"""The offline demo's AniList: three dozen made-up titles and three made-up viewers.

Every name, synopsis and list here is invented for the playground, so the offline page shows
nothing from real people. Covers are drawn by the playground itself (see covers.py), so the
page needs no internet either.
"""

from __future__ import annotations

import random
from typing import Any

from emulator.anilist import TAG_CATEGORIES, TAG_IDS, FakeData
from emulator.anilist import FakeUser as AniListUser

# (title, english title or None, format, year, episodes or chapters, genres, tags, mean score)
ANIME: tuple[tuple[str, str | None, str, int, int, str, str, int], ...] = (
    ("Hoshizora Relay", "Starlight Relay", "TV", 2021, 12, "Sports,Drama", "School,Rivalry", 81),
    ("Kurogane Requiem", "Iron Requiem", "TV", 2019, 24, "Action,Mecha,Drama", "Robots,Tragedy",
     84),
    ("Tea Time at Kitsune Hill", None, "TV", 2022, 12, "Slice of Life,Comedy", "Iyashikei,Food",
     78),
    ("Mirror Maze Detective", None, "TV", 2020, 13, "Mystery,Psychological,Thriller",
     "Urban,Anti-Hero", 86),
    ("Ashen Crown", "The Ashen Crown", "TV", 2023, 24, "Fantasy,Action,Adventure",
     "Magic,Dragons", 80),
    ("Neon Ghost Protocol", None, "TV", 2018, 26, "Sci-Fi,Thriller,Action",
     "Cyberpunk,Gunfights", 83),
    ("Lantern Festival Summer", None, "MOVIE", 2017, 1, "Romance,Drama,Supernatural",
     "Rural,Coming of Age", 85),
    ("Pocket Dungeon Diner", None, "TV", 2024, 12, "Fantasy,Comedy", "Dungeon,Food", 74),
    ("Silent Orbit", None, "ONA", 2021, 8, "Sci-Fi,Drama,Psychological", "Space,Tragedy", 82),
    ("Clockwork Sparrow", "The Clockwork Sparrow", "TV", 2016, 24, "Adventure,Fantasy",
     "Found Family,Time Manipulation", 79),
    ("Riverbank Brass Band", None, "TV", 2019, 13, "Music,Slice of Life", "School,Ensemble Cast",
     77),
    ("Seventh Floor Paranoia", None, "TV", 2022, 12, "Horror,Psychological,Mystery",
     "Urban,Tragedy", 80),
    ("Blade of the Quiet Valley", None, "TV", 2015, 25, "Action,Drama", "Swordplay,Revenge", 83),
    ("Magical Accountant Miko", None, "TV", 2023, 12, "Mahou Shoujo,Comedy",
     "Female Protagonist,Magic", 72),
    ("Gravity Kitchen", None, "TV_SHORT", 2020, 24, "Comedy,Sci-Fi", "Space,Food", 70),
    ("Northern Lights Express", None, "MOVIE", 2022, 1, "Adventure,Drama", "Rural,Found Family",
     84),
    ("Parallel Homeroom", None, "TV", 2024, 12, "Sci-Fi,Romance,Comedy",
     "School,Time Manipulation", 76),
    ("Iron Lotus Tournament", None, "TV", 2018, 24, "Action,Sports", "Martial Arts,Rivalry", 78),
    ("The Last Lighthouse Keeper", None, "OVA", 2014, 3, "Drama,Supernatural",
     "Mythology,Tragedy", 81),
    ("Dice Kingdom Online", None, "TV", 2021, 24, "Fantasy,Adventure,Action",
     "Virtual World,Isekai", 73),
    ("Velvet Static", None, "TV", 2025, 12, "Mystery,Thriller,Sci-Fi", "Cyberpunk,Anti-Hero", 82),
    ("Moss and Mushrooms", None, "TV", 2023, 12, "Slice of Life", "Iyashikei,Rural", 80),
    ("Galaxy Postal Service", None, "TV", 2017, 26, "Sci-Fi,Comedy,Adventure",
     "Space,Episodic", 79),
    ("Crimson Thread Oath", None, "TV", 2020, 24, "Romance,Fantasy,Drama", "Gods,Mythology", 77),
)  # fmt: skip
MANGA: tuple[tuple[str, str | None, str, int, int, str, str, int], ...] = (
    ("Paper Crane Cartographer", None, "MANGA", 2018, 96, "Adventure,Fantasy",
     "Found Family,Magic", 84),
    ("Night Shift at the Museum of Fear", None, "MANGA", 2021, 54, "Horror,Mystery",
     "Urban,Anthology", 80),
    ("Second Chance Pâtissier", None, "MANGA", 2019, 120, "Slice of Life,Romance",
     "Food,Coming of Age", 78),
    ("Thunder Court", None, "MANGA", 2016, 210, "Sports,Drama", "School,Rivalry", 85),
    ("Automaton Dreams", None, "NOVEL", 2020, 40, "Sci-Fi,Psychological", "Robots,Tragedy", 83),
    ("Hollow King's Gambit", None, "MANGA", 2022, 70, "Fantasy,Thriller,Action",
     "Revenge,Anti-Hero", 81),
    ("Tiny Dragon Roommate", None, "MANGA", 2023, 35, "Comedy,Fantasy,Slice of Life",
     "Dragons,Family Life", 76),
    ("Echoes Below Zero", None, "ONE_SHOT", 2024, 1, "Psychological,Drama",
     "Post-Apocalyptic,Tragedy", 79),
    ("Ballad of the Ninth Moon", None, "MANGA", 2015, 150, "Action,Supernatural,Drama",
     "Swordplay,Mythology", 82),
    ("Homework Club Conspiracy", None, "MANGA", 2021, 60, "Mystery,Comedy",
     "School,Ensemble Cast", 75),
    ("Starfall Courier", None, "MANGA", 2019, 88, "Sci-Fi,Adventure", "Space,Aliens", 80),
    ("Garden of Quiet Hours", None, "MANGA", 2020, 42, "Slice of Life,Romance",
     "Iyashikei,Rural", 79),
)  # fmt: skip
ANIME_FIRST_ID = 1
MANGA_FIRST_ID = 100_001
SEASONS = ("WINTER", "SPRING", "SUMMER", "FALL")
TAG_CATEGORY = {name: category for category, names in TAG_CATEGORIES.items() for name in names}
# Made-up viewers: (name, {type: [(index into that type's table, score out of 100, status)]}).
VIEWERS: tuple[tuple[str, dict[str, list[tuple[int, int, str]]]], ...] = (
    (
        "DemoViewer",
        {
            "ANIME": [
                (1, 90, "COMPLETED"), (5, 85, "COMPLETED"), (12, 80, "COMPLETED"),
                (3, 95, "COMPLETED"), (17, 60, "DROPPED"), (9, 0, "CURRENT"),
                (19, 70, "COMPLETED"), (0, 0, "PLANNING"),
            ],
            "MANGA": [(5, 88, "CURRENT"), (8, 75, "COMPLETED")],
        },
    ),
    (
        "CozyWatcher",
        {
            "ANIME": [
                (2, 92, "COMPLETED"), (21, 88, "COMPLETED"), (10, 80, "COMPLETED"),
                (6, 85, "COMPLETED"), (13, 50, "DROPPED"), (22, 0, "CURRENT"),
            ],
            "MANGA": [(2, 90, "COMPLETED"), (11, 85, "CURRENT"), (6, 80, "COMPLETED")],
        },
    ),
    (
        "MoonlitReader",
        {
            "ANIME": [(7, 70, "COMPLETED"), (4, 75, "COMPLETED")],
            "MANGA": [
                (0, 95, "COMPLETED"), (3, 80, "COMPLETED"), (4, 85, "COMPLETED"),
                (9, 65, "PAUSED"), (10, 0, "PLANNING"),
            ],
        },
    ),
)  # fmt: skip


def demo_data(cover_base_url: str) -> FakeData:
    """The demo set, its covers served under `cover_base_url` (e.g. http://127.0.0.1:8080)."""
    rng = random.Random(15)  # only popularity and recommendation counts are drawn
    media: dict[int, dict[str, Any]] = {}
    ids_by_type: dict[str, list[int]] = {"ANIME": [], "MANGA": []}
    for media_type, rows, first_id in (
        ("ANIME", ANIME, ANIME_FIRST_ID),
        ("MANGA", MANGA, MANGA_FIRST_ID),
    ):
        for offset, row in enumerate(rows):
            media_id = first_id + offset
            media[media_id] = _title(rng, media_id, media_type, row, cover_base_url)
            ids_by_type[media_type].append(media_id)
    _recommend_alike(media, ids_by_type)
    data = FakeData(media, {})
    for number, (name, lists) in enumerate(VIEWERS):
        user = AniListUser(5000 + number, name, "POINT_100")
        for media_type, picks in lists.items():
            ids = ids_by_type[media_type]
            user.entries[media_type] = [
                _entry(user, media[ids[index]], position, score, status)
                for position, (index, score, status) in enumerate(picks)
            ]
        data.users[name.lower()] = user
    return data


def _title(
    rng: random.Random,
    media_id: int,
    media_type: str,
    row: tuple[str, str | None, str, int, int, str, str, int],
    cover_base_url: str,
) -> dict[str, Any]:
    title, english, fmt, year, length, genres, tags, mean = row
    is_anime = media_type == "ANIME"
    cover = f"{cover_base_url}/covers/{media_id}.svg"
    return {
        "id": media_id,
        "type": media_type,
        "format": fmt,
        "status": "RELEASING" if year >= 2025 else "FINISHED",
        "title": {"romaji": title, "english": english, "native": None, "userPreferred": title},
        "description": f"{title} is a made-up title in Anime8's offline playground.",
        "startDate": {"year": year, "month": 4, "day": 1},
        "season": SEASONS[media_id % 4] if is_anime else None,
        "seasonYear": year if is_anime else None,
        "episodes": length if is_anime else None,
        "chapters": None if is_anime else length,
        "coverImage": {
            "extraLarge": cover,
            "large": cover,
            "medium": cover,
            "color": f"#{cover_colour(media_id):06x}",
        },
        "genres": genres.split(","),
        "averageScore": mean - 1,
        "meanScore": mean,
        "popularity": rng.randint(5_000, 300_000),
        "favourites": rng.randint(100, 9_000),
        "tags": [
            {
                "id": TAG_IDS[name],
                "name": name,
                "category": TAG_CATEGORY[name],
                "rank": 90 - 10 * rank_order,
                "isMediaSpoiler": False,
                "isAdult": False,
            }
            for rank_order, name in enumerate(tags.split(","))
        ],
        "isAdult": False,
        "siteUrl": f"https://anilist.co/{media_type.lower()}/{media_id}",
        "_relations": [],
        "_recommendations": [],
    }


def _recommend_alike(media: dict[int, dict[str, Any]], ids_by_type: dict[str, list[int]]) -> None:
    """Community recommendations between titles sharing a genre, as AniList users would make."""
    recommendation_id = 1
    for ids in ids_by_type.values():
        for media_id in ids:
            genres = set(media[media_id]["genres"])
            for other in ids:
                shared = len(genres & set(media[other]["genres"]))
                if other != media_id and shared >= 2:
                    media[media_id]["_recommendations"].append(
                        (recommendation_id, 20 * shared, other)
                    )
                    recommendation_id += 1


def _entry(
    user: AniListUser, media: dict[str, Any], position: int, score: int, status: str
) -> dict[str, Any]:
    return {
        "id": user.id * 100_000 + position,
        "userId": user.id,
        "mediaId": media["id"],
        "status": status,
        "score100": score,
        "scoreFormat": user.score_format,
        "progress": 0 if status == "PLANNING" else 1,
        "repeat": 0,
        "hiddenFromStatusLists": False,
        "customLists": (),
        "updatedAt": 1_700_000_000 - position * 3600,
        "media": media,
    }


def cover_colour(media_id: int) -> int:
    """A stable, fairly saturated colour per title: the embed's bar and the cover's fill."""
    palette = (0xE0464E, 0x3FA66B, 0x4A7BD8, 0xD99A2B, 0x9B59B6, 0x1ABC9C, 0xE67E22, 0x5865F2)
    return palette[media_id % len(palette)]
