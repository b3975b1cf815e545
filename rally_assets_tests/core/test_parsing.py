"""Both real imports parse, with every rejection counted and explained (issue: foundation §4)."""

from __future__ import annotations

import json

import pytest

from rally_assets.core.errors import InputError
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.parsing.normalize import (
    canonical_team_name,
    club_from_team_name,
    league_label_matches,
    normalize_captain,
    normalize_score,
    normalize_series,
    parse_number,
    sub_team_series,
    team_key,
)
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, requires_real_data

# (rows read, accepted, rejections by reason) per file, from the survey in shared/docs/real-data.md.
EXPECTED = {
    ("import_1", "APTA_CHICAGO"): {
        "players.json": (6837, 6837, {}),
        "match_history.json": (345, 345, {}),
        "schedules.json": (1766, 1674, {"bye": 73, "practice_stub": 19}),
        "series_stats.json": (545, 524, {"bye": 8, "ghost_series": 12, "legends_placeholder": 1}),
        "player_history.json": (10, 8, {}),  # + 2 set aside (unknown_player), see SOUND_VARIATION
    },
    ("import_1", "CNSWPL"): {
        # The 16 rows of players on two sub-teams of one club in one series (Prairie Club 2a and 2b)
        # were rejected as duplicate keys before sub-teams got sub-series of their own ('Series 2a').
        "players.json": (2654, 2654, {}),
        "match_history.json": (2793, 2793, {}),
        "schedules.json": (1233, 1233, {}),
        "series_stats.json": (278, 278, {}),
        "player_history.json": (10, 0, {"fallback_id": 10}),
    },
    ("import_1", "NSTF"): {
        "players.json": (808, 808, {}),
        "match_history.json": (194, 192, {}),  # + 2 exact repeats folded, see SOUND_VARIATION
        "schedules.json": (110, 110, {}),
        "series_stats.json": (28, 28, {}),
    },
    ("import_2", "APTA_CHICAGO"): {
        "players.json": (6837, 6837, {}),
        "schedules.json": (4931, 4799, {"empty_team": 2, "ghost_series": 124, "legends_placeholder": 6}),
        "series_stats.json": (537, 524, {"ghost_series": 12, "legends_placeholder": 1}),
    },
    ("import_2", "CNSWPL"): {
        "players.json": (3080, 3080, {}),
        "match_history.json": (2820, 2811, {"standings_row": 9}),
        "schedules.json": (1233, 1233, {}),
        "series_stats.json": (278, 278, {}),
    },
    ("import_2", "NSTF"): {
        "players.json": (808, 808, {}),
        "match_history.json": (518, 485, {"home_equals_away": 1, "unknown_placeholder": 32}),
        "schedules.json": (110, 110, {}),
        "series_stats.json": (28, 28, {}),
    },
}

# Rows that are neither accepted nor rejected (issue 14: sound variation is not a rejection): exact
# repeats folded, history of players the roster does not list set aside. Every other file: none.
SOUND_VARIATION = {
    ("import_1", "NSTF", "match_history.json"): {"folded": 2, "set_aside": {}},
    ("import_1", "APTA_CHICAGO", "player_history.json"): {"folded": 0, "set_aside": {"unknown_player": 2}},
}


@pytest.fixture(scope="module")
def parsed():
    cache = {}

    def get(imp: str, league: str):
        if (imp, league) not in cache:
            cache[(imp, league)] = parse_league((IMPORT_1 if imp == "import_1" else IMPORT_2) / league)
        return cache[(imp, league)]

    return get


@requires_real_data
@pytest.mark.parametrize("imp,league", sorted(EXPECTED))
def test_real_files_parse_with_every_rejection_explained(parsed, imp, league):
    result = parsed(imp, league)
    for name, (read, accepted, rejected) in EXPECTED[(imp, league)].items():
        report = result.reports[name]
        assert (report.rows_read, report.accepted, report.rejected) == (read, accepted, rejected), name
        sound = SOUND_VARIATION.get((imp, league, name), {"folded": 0, "set_aside": {}})
        assert {"folded": report.folded, "set_aside": report.set_aside} == sound, name
        set_aside = sum(report.set_aside.values())
        assert report.accepted + sum(report.rejected.values()) + set_aside + report.folded == report.rows_read
        listed = result.rejections[result.rejections["file"] == name]
        # every rejected or set-aside row listed with file, row and reason; folded repeats only counted
        assert len(listed) == read - accepted - report.folded
        assert listed["reason"].notna().all() and listed["row_number"].between(1, read).all()
    absent = set(result.reports) - set(EXPECTED[(imp, league)])
    assert all(not result.reports[name].present for name in absent)


@requires_real_data
@pytest.mark.parametrize("imp,league", sorted(EXPECTED))
def test_every_kept_row_names_a_team_the_league_has(parsed, imp, league):
    result = parsed(imp, league)
    keys = set(result.teams["team_key"])
    assert result.teams["series"].notna().all() and result.teams["club"].notna().all()
    for frame, columns in (
        (result.players, ["team_name"]),
        (result.schedule, ["home_team", "away_team"]),
        (result.matches, ["home_team", "away_team"]),
        (result.series_stats, ["team"]),
    ):
        for column in columns:
            names = frame[column].dropna()
            assert names.map(team_key).isin(keys).all(), (
                f"{column}: {sorted(set(names[~names.map(team_key).isin(keys)]))[:5]}"
            )
    assert result.teamless.empty


@requires_real_data
def test_series_come_only_from_labels_the_input_names(parsed):
    for imp, league in EXPECTED:
        folder = (IMPORT_1 if imp == "import_1" else IMPORT_2) / league
        labels = set()
        for name in ("players.json", "schedules.json", "series_stats.json", "match_history.json"):
            path = folder / name
            if not path.exists():
                continue
            for record in json.loads(path.read_text()):
                for key in ("Series", "series"):
                    if isinstance(record.get(key), str):
                        labels.add(normalize_series(record[key]))
                for key in ("home_team", "away_team"):
                    if isinstance(record.get(key), str) and " - Series " in record[key]:
                        labels.add(normalize_series(record[key].rsplit(" - ", 1)[1]))
        result = parsed(imp, league)
        labels -= {None}
        # a sub-team's series is the series its league names plus the team's own mark ('Series 14a')
        for series, team in zip(result.teams["series"], result.teams["team_name"]):
            assert series in labels or any(sub_team_series(label, team) == series for label in labels), (series, team)
        team_series = set(result.teams["series"])
        assert set(result.players["series"]) <= labels | team_series


@requires_real_data
def test_schedule_home_and_away_are_put_the_right_way_round(parsed):
    """The scraped schedule lists the host as away; after the swap, schedule and match rows agree."""
    result = parsed("import_1", "CNSWPL")
    played = set(zip(result.matches["match_date"], result.matches["home_team"], result.matches["away_team"]))
    scheduled = set(zip(result.schedule["match_date"], result.schedule["home_team"], result.schedule["away_team"]))
    distinct_matches = {m for m in played}
    assert len(distinct_matches & scheduled) / len(distinct_matches) >= 0.99
    assert result.reports["schedules.json"].notes["home_away_swapped_by_location"] > 1100


@requires_real_data
def test_import_2_scores_read_from_the_home_side(parsed):
    """import_2 writes CNSWPL scores away-first; trusting Winner, the home winner has more sets."""
    matches = parsed("import_2", "CNSWPL").matches
    decided = matches[matches["winner"].isin(["home", "away"])]
    agree = 0
    for score, winner in zip(decided["scores"], decided["winner"]):
        sets = [s.split(" [")[0].split("-") for s in score.split(", ")] if score and score[0].isdigit() else []
        home = sum(int(h) > int(a) for h, a in sets)
        away = sum(int(a) > int(h) for h, a in sets)
        agree += (home > away) == (winner == "home") and home != away
    assert agree / len(decided) >= 0.97


def test_series_labels_normalise_to_one_form():
    assert normalize_series("Chicago 7 SW") == "Series 7 SW"
    assert normalize_series("Division 14a") == "Series 14"
    assert normalize_series("Series 2B") == "Series 2B"
    assert normalize_series("Series  11 sw") == "Series 11 SW"
    assert normalize_series("Chicago Chicago") is None
    assert normalize_series("Unknown") is None


def test_team_names_in_their_many_forms_are_one_team():
    assert canonical_team_name("Lake Forest  S1 - Series 1") == "Lake Forest S1"
    assert team_key("Glen Ellyn - 1") == team_key("Glen Ellyn 1") == team_key("Glen Ellyn 1 - Series 1")
    assert team_key("Hinsdale PC 1a") != team_key("Hinsdale PC 1b")
    assert club_from_team_name("Midtown - Chicago - 19") == "Midtown - Chicago"
    assert club_from_team_name("Winnetka B(1)") == "Winnetka"
    assert club_from_team_name("Wilmette S1 T2") == "Wilmette"
    assert club_from_team_name("Skokie") == "Skokie"


def test_scores_are_repaired_and_read_from_the_home_side():
    assert normalize_score("1-6, 2-6", "home") == ("6-1, 6-2", True)
    assert normalize_score("6-7, 1-1, 1-3, 3-6", "away") == ("6-7 [11-13], 3-6", False)
    assert normalize_score("6-7, 6-8, 1-6", "away") == ("6-7 [6-8], 1-6", False)
    assert normalize_score("710-64", "home") == ("7-6 [10-4]", False)
    assert normalize_score("September 5, 2024", "home") == ("September 5, 2024", False)


def test_values_pti_and_captain():
    assert parse_number("N/A") is None and parse_number("-17.7") == -17.7 and parse_number("89.5%") == 89.5
    assert [normalize_captain(v) for v in ("", "C", "CC", "Yes", "Player")] == [None, "C", "CC", "C", None]


def test_a_missing_players_file_is_a_clear_error(tmp_path):
    (tmp_path / "NSTF").mkdir()
    (tmp_path / "NSTF" / "schedules.json").write_text("[]")
    with pytest.raises(InputError, match=r"NSTF/players.json.*missing"):
        parse_league(tmp_path / "NSTF")


# --- real landings as they really come (issue 14: data/rally_history_sample) ----------------------

SAMPLE = IMPORT_1.parents[1] / "rally_history_sample"
requires_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the real landing sample is absent ({SAMPLE})")


def test_a_misspelt_or_aliased_league_label_is_the_folders_league():
    assert league_label_matches("nsft", "NSTF") and league_label_matches("NSTF", "NSTF")
    assert league_label_matches("apta-chicago", "APTA_CHICAGO") and league_label_matches("APTA Chicago", "APTA_CHICAGO")
    assert league_label_matches("CNSWLP", "CNSWPL")  # two adjacent letters swapped
    assert not league_label_matches("CNSWPL", "NSTF") and not league_label_matches("APTA_CHICAGO", "CNSWPL")
    assert not league_label_matches("TFSN", "NSTF") and not league_label_matches("APTA_NATIONAL", "APTA_CHICAGO")
    assert not league_label_matches("NSF", "NSTF")  # a letter short is another label, not a swap


@requires_sample
def test_sound_variation_in_real_landings_is_accepted_and_reported():
    nstf = parse_league(SAMPLE / "000_2025-06-07_91beb5b4" / "NSTF").reports
    assert nstf["schedules.json"].league_aliases == {"nsft": 110} and not nstf["schedules.json"].rejected
    assert nstf["series_stats.json"].league_aliases == {"nsft": 24} and nstf["series_stats.json"].accepted == 24

    apta = parse_league(SAMPLE / "004_2025-06-16_2d965063" / "APTA_CHICAGO")
    history = apta.reports["player_history.json"]
    assert (history.rows_read, history.accepted, history.rejected) == (10128, 6292, {})
    assert history.set_aside == {"unknown_player": 3836} and history.notes["records_without_history"] == 6287
    assert len(apta.player_history) == 1334  # the five players with a history, entry by entry
    set_aside = apta.rejections[apta.rejections["file"] == "player_history.json"]
    assert len(set_aside) == 3836 and set(set_aside["reason"]) == {"unknown_player"}

    cnswpl = parse_league(SAMPLE / "045_2025-08-24_12bc52e7" / "CNSWPL").reports["players.json"]
    # 3,598 accepted: the 16 rows of players on two sub-teams of one club in one series are two keys
    assert (cnswpl.rows_read, cnswpl.folded, cnswpl.accepted) == (6037, 2281, 3598)
    assert cnswpl.rejected == {"duplicate_key": 158}  # a second team of the same club and series: not a repeat


@requires_sample
def test_repeated_unusable_rows_are_not_folded_away():
    """071: 7,537 identical empty rows. Folding them into one would hide the broken scrape."""
    players = parse_league(SAMPLE / "071_2025-09-21_3f9755ae" / "APTA_CHICAGO").reports["players.json"]
    assert (players.rows_read, players.accepted, players.folded) == (7551, 14, 0)
    assert players.rejected == {"missing_player_id": 7537}


@requires_sample
def test_series_are_checked_against_the_files_own_series_mapping_id():
    corrupt = parse_league(SAMPLE / "029_2025-08-10_59896fb2" / "CNSWPL").reports["players.json"].notes
    assert (corrupt["series_mapping_id_checked"], corrupt["series_mapping_id_disagrees"]) == (1776, 1659)
    sound = parse_league(IMPORT_2 / "CNSWPL").reports["players.json"].notes
    assert sound["series_mapping_id_checked"] == 3080 and "series_mapping_id_disagrees" not in sound


@requires_sample
def test_an_empty_players_file_parses_to_no_rows_for_the_integrity_check_to_refuse():
    parsed = parse_league(SAMPLE / "026_2025-08-06_11e7e919" / "CNSWPL")
    assert parsed.reports["players.json"].rows_read == 0 and parsed.players.empty and parsed.covered_series == []
