"""Free-text preferences ("dark psychological thriller with time travel, no romance") mapped to
AniList genres and tags, with negation. Text that names nothing we know is an error, not an
excuse to show popular titles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_CHARS = 1000  # longer text is cut: nobody describes their taste in a novel
_MAX_PHRASE = 5

# phrase -> ("genre" | "tag", AniList name). Tag names follow AniList's tag list.
_SYNONYMS: dict[str, tuple[tuple[str, str], ...]] = {}


def _add(kind: str, name: str, *phrases: str) -> None:
    for phrase in (name.lower(), *phrases):
        _SYNONYMS[phrase] = (*_SYNONYMS.get(phrase, ()), (kind, name))


for _genre, _words in {
    "Action": ("fight", "fighting", "fights", "battle", "battles", "explosions"),
    "Adventure": ("journey", "quest", "exploration", "adventures"),
    "Comedy": ("funny", "humor", "humour", "hilarious", "comedic", "lighthearted", "jokes"),
    "Drama": ("dramatic", "emotional", "tearjerker", "sad"),
    "Ecchi": ("fanservice", "fan service", "lewd"),
    "Fantasy": ("fantastic", "dragons", "elves", "sword and sorcery"),
    "Hentai": ("porn", "explicit", "adult", "nsfw", "r18", "r 18", "18+"),
    "Horror": ("scary", "creepy", "spooky", "terrifying", "frightening", "horrifying"),
    "Mahou Shoujo": ("magical girl", "magical girls", "mahou shojo"),
    "Mecha": ("robot", "robots", "giant robots", "mech", "mechs", "gundam"),
    "Music": ("musical", "idol", "idols", "band", "singing", "concert"),
    "Mystery": ("mysteries", "mysterious", "whodunit", "detective"),
    "Psychological": ("psycho", "mind games", "mind bending", "mindbending", "dark", "twisted"),
    "Romance": ("romantic", "love story", "love stories", "dating"),
    "Sci-Fi": ("sci fi", "scifi", "science fiction", "futuristic", "sf"),
    "Slice of Life": ("sol", "iyashikei", "relaxing", "chill", "cozy", "cosy", "everyday life"),
    "Sports": ("sport", "football", "soccer", "basketball", "baseball", "volleyball", "tennis"),
    "Supernatural": ("ghost", "ghosts", "spirits", "paranormal", "yokai"),
    "Thriller": ("suspense", "suspenseful", "thrilling", "tense"),
}.items():
    _add("genre", _genre, *_words)
for _phrase in ("romcom", "rom com"):
    _add("genre", "Romance", _phrase)
    _add("genre", "Comedy", _phrase)
for _tag, _words in {
    "Time Manipulation": ("time travel", "time traveling", "time loop", "time loops"),
    "Isekai": ("another world", "other world", "transported to another world"),
    "Reincarnation": ("reincarnated", "reborn"),
    "Gore": ("bloody", "blood", "gory", "violent", "violence", "graphic violence"),
    "School": ("high school", "school life", "highschool"),
    "Military": ("war", "army", "soldiers"),
    "Vampire": ("vampires",),
    "Samurai": ("samurais",),
    "Martial Arts": ("kung fu", "karate"),
    "Space": ("outer space", "spaceships", "space opera"),
    "Harem": (),
    "Historical": ("history", "period piece"),
    "Police": ("cops", "cop"),
    "Demons": ("demon",),
    "Super Power": ("superpowers", "super powers", "superhero", "superheroes"),
    "Parody": ("spoof",),
    "Video Games": ("video game", "gaming", "games"),
    "Cyberpunk": (),
    "Post-Apocalyptic": ("post apocalyptic", "apocalypse", "apocalyptic"),
    "Zombie": ("zombies",),
    "Survival": (),
    "Tragedy": ("tragic",),
    "Revenge": ("vengeance",),
    "Shounen": ("shonen",),
    "Shoujo": ("shojo",),
    "Seinen": (),
    "Josei": (),
    "Kids": ("children", "for kids"),
    "Magic": ("wizards", "witches", "witch", "wizard", "sorcery"),
    "Ninja": ("ninjas",),
    "Pirates": ("pirate",),
    "Aliens": ("alien",),
    "Dystopian": ("dystopia",),
    "Food": ("cooking", "cuisine"),
    "Cute Girls Doing Cute Things": ("cgdct", "cute girls"),
    "Workplace": ("office", "work life"),
    "Racing": ("cars", "car racing"),
    "Boys' Love": ("boys love", "bl", "yaoi"),
    "Yuri": ("girls love", "shoujo ai"),
    "Detective": ("detectives",),
}.items():
    _add("tag", _tag, *_words)
_add("tag", "Game", "games", "video game", "gaming")  # MAL's name for the Video Games theme
_add("tag", "Cars", "cars", "racing")

_NEGATIONS = frozenset(
    "no not without non never avoid hate dislike except exclude excluding minus skip nothing "
    "zero nor dont doesnt isnt arent nope".split()
)
_SCOPE_ENDS = frozenset("but with yet though although however plus also".split())
_TOKEN = re.compile(r"18\+|[a-z0-9]+|[,.;:!?]")  # "18+" is a word of its own


class PreferencesError(ValueError):
    """Preferences text we cannot use; ``str(error)`` is a sentence to show the user."""


class AdultPreferencesError(PreferencesError):
    """The text asks for adult titles (or adult tags) where they may not be shown."""

    def __init__(self) -> None:
        super().__init__("Adult titles are only shown in age-restricted channels.")


@dataclass(frozen=True)
class Preferences:
    """Genres and tags the user asked for (include) and against (exclude), by AniList name."""

    include_genres: frozenset[str] = frozenset()
    include_tags: frozenset[str] = frozenset()
    exclude_genres: frozenset[str] = frozenset()
    exclude_tags: frozenset[str] = frozenset()

    @property
    def wanted(self) -> tuple[str, ...]:
        """Included names, genres first, for explanations."""
        return (*sorted(self.include_genres), *sorted(self.include_tags))


def _phrases(tag_names: Iterable[str]) -> dict[tuple[str, ...], tuple[tuple[str, str], ...]]:
    table = {tuple(_TOKEN.findall(p)): kinds for p, kinds in _SYNONYMS.items()}
    for name in tag_names:
        key = tuple(_TOKEN.findall(name.lower().replace("'", "")))
        if key and key not in table:
            table[key] = (("tag", name),)
    return table


def parse_preferences(text: str, tag_names: Iterable[str] = ()) -> Preferences:
    """Parse free text; ``tag_names`` adds the catalogue's own tag names to the vocabulary.

    Raises PreferencesError when the text names no genre or tag we recognise.
    """
    tokens = _TOKEN.findall(text[:MAX_CHARS].lower().replace("'", "").replace("\u2019", ""))
    table = _phrases(tag_names)
    include: set[tuple[str, str]] = set()
    exclude: set[tuple[str, str]] = set()
    negated = False
    position = 0
    while position < len(tokens):
        match = _longest_match(tokens, position, table)
        if match:
            length, kinds = match
            (exclude if negated else include).update(kinds)
            position += length
            continue
        token = tokens[position]
        if token in _NEGATIONS:
            negated = True
        elif token in _SCOPE_ENDS or not token.isalnum():
            negated = False
        elif token == "and" and not _longest_match(tokens, position + 1, table):
            negated = False  # "no romance and lots of comedy": the negation ends here
        position += 1
    if not include and not exclude:
        raise PreferencesError(
            "I couldn't recognise any genre or theme in that. Try something like "
            '"dark psychological thriller with time travel, no romance".'
        )
    include -= exclude
    return Preferences(
        include_genres=frozenset(n for k, n in include if k == "genre"),
        include_tags=frozenset(n for k, n in include if k == "tag"),
        exclude_genres=frozenset(n for k, n in exclude if k == "genre"),
        exclude_tags=frozenset(n for k, n in exclude if k == "tag"),
    )


def _longest_match(
    tokens: list[str], start: int, table: dict[tuple[str, ...], tuple[tuple[str, str], ...]]
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    for length in range(min(_MAX_PHRASE, len(tokens) - start), 0, -1):
        key = tuple(tokens[start : start + length])
        if key in table:
            return length, table[key]
        if length == 1 and key[0].endswith("s") and (key[0][:-1],) in table:
            return 1, table[(key[0][:-1],)]  # plurals: "mysteries" aside, "thrillers" etc.
    return None
