WITH candidates AS MATERIALIZED (  -- computed once: as a re-scanned inner side (stale statistics) it ran for minutes
    -- the row's player: its player_id, else the app's own legacy key (validate_player_exists)
    SELECT a.id, a.player_name, a.match_date, a.updated_at, p.tenniscores_player_id, 'player_id' AS via
    FROM player_availability a JOIN players p ON p.id = a.player_id
    WHERE a.user_id IS NULL
    UNION ALL
    SELECT a.id, a.player_name, a.match_date, a.updated_at, p.tenniscores_player_id, 'name_and_series'
    FROM player_availability a JOIN players p
      ON concat(p.first_name, ' ', p.last_name) = a.player_name AND p.series_id = a.series_id AND p.is_active
    WHERE a.user_id IS NULL AND NOT EXISTS (SELECT 1 FROM players q WHERE q.id = a.player_id)
),
owners AS (  -- every row without a user_id, with what resolves it (or nothing)
    SELECT a.id, a.player_name, a.match_date, a.updated_at, min(c.via) AS via,
           count(DISTINCT c.tenniscores_player_id) AS players, count(DISTINCT x.user_id) AS users,
           min(x.user_id) AS user_id
    FROM player_availability a
    LEFT JOIN candidates c ON c.id = a.id
    LEFT JOIN user_player_associations x ON x.tenniscores_player_id = c.tenniscores_player_id
    WHERE a.user_id IS NULL
    GROUP BY a.id, a.player_name, a.match_date, a.updated_at
),
judged AS (
    SELECT o.*,
           CASE WHEN o.players = 0 THEN 'no player by its player_id, nor by its player name and series'
                WHEN o.players > 1 THEN 'ambiguous: ' || o.players || ' active players with this name in the series'
                WHEN o.users = 0 THEN 'no user is linked to the player'
                WHEN o.users > 1 THEN 'ambiguous: ' || o.users || ' users are linked to the player'
                WHEN EXISTS (SELECT 1 FROM player_availability b WHERE b.user_id = o.user_id AND b.match_date = o.match_date)
                    THEN 'the user already has a row for that date'
           END AS blocked
    FROM owners o
),
one_per_date AS (  -- the app allows one row per (user, date): the newest gets the user, never a second
    SELECT *, row_number() OVER (PARTITION BY user_id, match_date, blocked IS NULL
                                 ORDER BY updated_at DESC NULLS LAST, id DESC) AS n
    FROM judged
)
SELECT id, player_name, match_date, user_id, via,
       coalesce(blocked, CASE WHEN n > 1 THEN 'another row of the user for that date is relinked' END) AS blocked
FROM one_per_date
WHERE %(user)s::integer IS NULL OR user_id = %(user)s
ORDER BY id
